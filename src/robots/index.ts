import type { Robot } from '../app';
import { dealRenamer } from './deal-renamer';
import { stageGuard } from './stage-guard';
import { takeoverTimer } from './takeover-timer';

/** Every robot the app runs. Adding a robot = one file in this folder + one line here + its block in config/robots.default.json. */
export const robots: Array<Robot<any>> = [stageGuard, dealRenamer, takeoverTimer];
