import type { Robot } from '../app';
import { dealRenamer } from './deal-renamer';
import { duplicateCatcher } from './duplicate-catcher';
import { stageGuard } from './stage-guard';
import { stageTimers } from './stage-timers';
import { takeoverTimer } from './takeover-timer';

/** Every robot the app runs, in the order they run on an event (the duplicate catcher records repeats before the takeover timer looks). Adding a robot = one file in this folder + one line here + its block in config/robots.default.json. */
export const robots: Array<Robot<any>> = [stageGuard, dealRenamer, duplicateCatcher, takeoverTimer, stageTimers];
