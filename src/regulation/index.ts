/**
 * The regulation core ("регламент как данные"): the model, the shipped presets, binding to a
 * portal, and the stage guard's pure decision. No I/O besides reading `config/presets/`.
 */
export * from './schema';
export * from './errors';
export { normalizeName, sameName } from './normalize-name';
export {
  DEFAULT_MESSAGES,
  renderTemplate,
  renderMessage,
  pickText,
  quote,
  quoteList,
  mergeMessages,
  placeholdersOf,
  composeMessage,
} from './messages';
export { validatePreset, checkPresetReferences, presetFileLabel, type PresetResult } from './validate-preset';
export { expandSelection } from './selectors';
export { loadPreset, readPreset, listPresets, presetsDir, type PresetSummary, type PresetLoadOptions } from './presets';
export { bindRegulation, type BindResult, type BindOptions } from './bind';
export { evaluateMove, isFilled, isExempt, stageRef } from './evaluate-move';
export { stageByRole, stagesByRole, stageById, entersRole, entersMeetingHeld, isViolationAlertDue } from './queries';
