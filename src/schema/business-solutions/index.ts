// The five business solutions: ContractWise, GlobalFit, BehaviorPredict, ComplianceGuard and SkillPath.
import './contract-analyses.ts';
import './localization-analyses.ts';
import './customer-behavior-analyses.ts';
import './compliance-monitoring.ts';
import './learning-paths.ts';
