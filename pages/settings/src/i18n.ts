/** Texts of the page. Russian is the default; English is one click away. Labels are keyed by settings path. */
export type Lang = 'ru' | 'en';
type Pair = [ru: string, en: string];

const UI = {
  title: ['Настройки Reglament', 'Reglament settings'],
  save: ['Сохранить', 'Save'],
  saving: ['Сохраняем…', 'Saving…'],
  saved: ['Сохранено. Изменения действуют со следующего события CRM.', 'Saved. Changes apply from the next CRM event.'],
  refused: ['Не сохранено: исправьте поля, отмеченные красным. Ничего не изменилось.', 'Not saved: fix the fields marked in red. Nothing was changed.'],
  unchanged: ['Нет изменений.', 'No changes.'],
  loading: ['Загрузка…', 'Loading…'],
  noSession: ['Откройте настройки из приложения Reglament в CRM: сессия не найдена.', 'Open the settings from the Reglament app in the CRM: no session.'],
  expired: ['Сессия истекла. Откройте приложение в CRM заново.', 'The session expired. Open the app in the CRM again.'],
  forbidden: ['Нет доступа к настройкам этой установки.', 'No access to this installation’s settings.'],
  failed: ['Не удалось связаться с сервером Reglament.', 'Could not reach the Reglament server.'],
  on: ['включён', 'on'],
  off: ['выключен', 'off'],
  waiting_regulation: ['ждёт регламента', 'waiting for a regulation'],
  waiting_inventory: ['ждёт учёта объектов', 'waiting for the inventory'],
  waiting_valid_settings: ['ошибка в настройках', 'settings invalid'],
  general: ['Общие', 'General'],
  json: ['JSON: проверяется при сохранении', 'JSON: checked on save'],
  badJson: ['Это не JSON', 'Not valid JSON'],
  onePerLine: ['По одному в строке', 'One per line'],
  reset: ['По умолчанию', 'Default'],
  storedInvalid: ['Сохранённые настройки содержат ошибки:', 'The stored settings have problems:'],
  funnels: ['Воронки и стадии CRM (для сопоставления регламента)', 'CRM funnels and stages (for binding a regulation)'],
  fieldPicker: ['Поля CRM: начните вводить название', 'CRM fields: start typing the title'],
  userPicker: ['Id пользователей CRM, по одному в строке, или выберите ниже', 'CRM user ids, one per line, or pick below'],
  addUser: ['Добавить пользователя…', 'Add a user…'],
  unknownUser: ['нет такого пользователя', 'no such user'],
  inactiveUser: ['уволен', 'dismissed'],
} satisfies Record<string, Pair>;

export const t = (lang: Lang, key: keyof typeof UI): string => UI[key][lang === 'en' ? 1 : 0];

const SECTIONS: Record<string, Pair> = {
  general: UI.general,
  stageGuard: ['Страж стадий', 'Stage guard'],
  dealRenamer: ['Переименование сделок', 'Deal renamer'],
  duplicateCatcher: ['Ловец дублей', 'Duplicate catcher'],
  takeoverTimer: ['Таймер взятия в работу', 'Takeover timer'],
  unitStatusSync: ['Статусы объектов', 'Unit status sync'],
  bookingReleaser: ['Сроки брони', 'Booking releaser'],
  stageTimers: ['Таймеры стадий', 'Stage timers'],
};
export const sectionTitle = (lang: Lang, name: string): string => SECTIONS[name]?.[lang === 'en' ? 1 : 0] ?? name;

const LABELS: Record<string, Pair> = {
  locale: ['Язык сообщений менеджерам', 'Language of messages to managers'],
  schedule: ['Рабочее время отдела продаж', 'Sales office working hours'],
  headsOfSales: ['Руководители отдела продаж (id пользователей CRM)', 'Heads of sales (CRM user ids)'],
  rateLimit: ['Лимит REST тарифа Битрикс24', 'Bitrix24 plan REST limit'],
  'rateLimit.burst': ['Запросов подряд', 'Burst'],
  'rateLimit.perSecond': ['Запросов в секунду', 'Per second'],
  enabled: ['Робот включён', 'Robot enabled'],
  'stageGuard.regulations': ['Подключённые регламенты', 'Bound regulations'],
  'dealRenamer.template': ['Шаблон названия', 'Title template'],
  unitField: ['Поле объекта', 'Unit field'],
  'dealRenamer.entities': ['Что переименовывать', 'What to rename'],
  'duplicateCatcher.region': ['Регион телефонов', 'Phone region'],
  'duplicateCatcher.ignore': ['Не считать дублем (общие номера, e-mail)', 'Never a duplicate (shared numbers, e-mails)'],
  'duplicateCatcher.agentLabels': ['Метки агента', 'Agent labels'],
  'duplicateCatcher.agentField': ['Поле «агент» контакта', 'Contact’s agent field'],
  'duplicateCatcher.doubleSubmissionWindow': ['Окно повторной заявки', 'Double submission window'],
  'duplicateCatcher.lossReasons': ['Статусы закрытия повторов', 'Statuses for repeats'],
  'duplicateCatcher.lossReasons.agent': ['Агент', 'Agent'],
  'duplicateCatcher.lossReasons.new_contact_of_active_client': ['Новые контакты у активного клиента', 'New contacts of an active client'],
  'duplicateCatcher.lossReasons.existing_buyer': ['Дольщик', 'Existing buyer'],
  'duplicateCatcher.lossReasons.double_submission': ['Повторная заявка', 'Double submission'],
  'duplicateCatcher.amocrmMessengerFields': ['Поля мессенджеров amoCRM', 'amoCRM messenger fields'],
  'duplicateCatcher.sourceField': ['Поле источника', 'Source field'],
  'duplicateCatcher.nativeMerge': ['Объединять контакты средствами CRM', 'Merge contacts with the CRM’s merge'],
  'duplicateCatcher.bitrix24ContactsWithoutLeads': ['Контакты без лидов (простой режим CRM)', 'Contacts without leads (simple CRM mode)'],
  'takeoverTimer.timeout': ['Время на взятие в работу', 'Time to take a lead'],
  'takeoverTimer.maxHops': ['Передач до эскалации', 'Hand-overs before escalation'],
  'takeoverTimer.startRoles': ['Стадии, с которых идёт отсчёт', 'Stages that start the clock'],
  'takeoverTimer.startRoles.deal': ['Сделки', 'Deals'],
  'takeoverTimer.startRoles.lead': ['Лиды', 'Leads'],
  'takeoverTimer.takenBy': ['Что считается взятием', 'What counts as taking it'],
  'takeoverTimer.technicalUserIds': ['Технические пользователи', 'Technical users'],
  'takeoverTimer.roster': ['Кто получает лиды', 'Roster'],
  'takeoverTimer.roster.departments': ['Отделы', 'Departments'],
  'takeoverTimer.roster.groups': ['Группы', 'Groups'],
  'takeoverTimer.roster.userIds': ['Пользователи', 'Users'],
  'takeoverTimer.roster.excludeUserIds': ['Кроме пользователей', 'Except users'],
  'takeoverTimer.managers': ['Менеджеры: вес, график', 'Managers: weight, schedule'],
  'takeoverTimer.dailyCap': ['Лидов в день на менеджера', 'Leads a day per manager'],
  'takeoverTimer.vacations': ['Отпуска', 'Vacations'],
  'takeoverTimer.rating': ['Рейтинг месяца', 'Monthly rating'],
  'unitStatusSync.inventory': ['Подключение учёта объектов', 'Inventory connection'],
  'unitStatusSync.onContract': ['Статус при договоре', 'Status at contract'],
  'unitStatusSync.onRegistration': ['Статус при регистрации', 'Status at registration'],
  'unitStatusSync.pollEvery': ['Опрос изменений', 'Poll every'],
  'bookingReleaser.duration': ['Срок брони', 'Booking duration'],
  'bookingReleaser.paidDuration': ['Срок платной брони', 'Paid booking duration'],
  'bookingReleaser.byProject': ['Сроки по проектам', 'Durations by project'],
  'bookingReleaser.warnBefore': ['Предупредить заранее', 'Warn before'],
  'bookingReleaser.paidField': ['Поле «платная бронь»', 'Paid booking field'],
  'bookingReleaser.extendField': ['Поле «Бронь до»', 'Extend field («Бронь до»)'],
  'bookingReleaser.headOfSalesUserIds': ['Руководители (продлевают бронь)', 'Heads of sales (may extend)'],
  'stageTimers.noAnswer': ['Недозвон: серия звонков', 'No answer: call cadence'],
  'stageTimers.noAnswer.enabled': ['Серия включена', 'Cadence on'],
  'stageTimers.noAnswer.afterLastAttempt': ['После последней попытки', 'After the last attempt'],
  'stageTimers.noAnswer.messenger': ['Мессенджер', 'Messenger'],
  'stageTimers.noAnswer.clientTimeZoneField': ['Поле часового пояса клиента', 'Client time zone field'],
  'stageTimers.inWorkMaxPerManager': ['Сделок «в работе» на менеджера', 'Deals in work per manager'],
  'stageTimers.alertUnassigned': ['Сообщать о сделках без ответственного', 'Alert on deals without a manager'],
};

/** A label for a settings path: the path itself, else its last key; else the key made readable. */
export function labelOf(lang: Lang, path: string): string {
  const key = path.split('.').at(-1)!;
  const pair = LABELS[path] ?? LABELS[key];
  if (pair) return pair[lang === 'en' ? 1 : 0];
  return key.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase());
}

/** Words for the values the schemas allow (stage roles, touch kinds…); the stored value stays the key. */
const VALUES: Record<string, Pair> = {
  ru: ['Русский', 'Russian'], en: ['Английский', 'English'], deal: ['Сделки', 'Deals'], lead: ['Лиды', 'Leads'],
  incoming: ['Входящие', 'Incoming'], technical: ['Техническая', 'Technical'], new: ['Новый', 'New'], qualification: ['Квалификация', 'Qualification'],
  responsible_assigned: ['Назначен ответственный', 'Responsible assigned'], in_work: ['Передан в работу', 'In work'], to_hand_over: ['Для передачи', 'To hand over'],
  no_answer: ['Не дозвонились', 'No answer'], to_close: ['На закрытие', 'To close'], deferred: ['Отложенный спрос', 'Deferred'],
  needs_identified: ['Потребности выявлены', 'Needs identified'], meeting_set: ['Встреча назначена', 'Meeting set'], meeting_held: ['Встреча состоялась', 'Meeting held'],
  proposal_sent: ['Отправлено КП', 'Proposal sent'], feedback_received: ['Получена обратная связь', 'Feedback received'], booking: ['Бронь', 'Booking'],
  booking_expired: ['Бронь истекла', 'Booking expired'], contract: ['Договор', 'Contract'], registration: ['Регистрация', 'Registration'],
  payment_received: ['Оплата получена', 'Payment received'], qualified: ['Квалифицирован', 'Qualified'], won: ['Успешно', 'Won'], lost: ['Проиграно', 'Lost'],
  new_contact_of_active_client: ['Новые контакты у активного клиента', 'New contacts of an active client'], existing_buyer: ['Дольщик', 'Existing buyer'],
  agent: ['Агент', 'Agent'], custom: ['Другая', 'Custom'], stage: ['Перевод по стадии', 'Stage move'], call: ['Звонок', 'Call'], note: ['Примечание', 'Note'],
  email: ['E-mail', 'E-mail'], message: ['Сообщение', 'Message'], in_execution: ['В исполнении', 'In execution'], sold: ['Продан', 'Sold'],
  move_to_close: ['Перевести «На закрытие»', 'Move to “To close”'], notify_manager: ['Сообщить менеджеру', 'Notify the manager'],
};
export const valueLabel = (lang: Lang, value: unknown): string => VALUES[String(value)]?.[lang === 'en' ? 1 : 0] ?? String(value);
