/** Pagination bounds shared by every connection. */
export const PAGE = { defaultSize: 20, maxSize: 100 } as const;
