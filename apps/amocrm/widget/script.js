/**
 * Reglament widget for amoCRM.
 *
 * The robots run on the Reglament server (OAuth install, account webhooks); this widget only
 * explains them. Locations (manifest.json):
 *   - settings          — the install/settings modal: a short note under the fields;
 *   - advanced_settings — a page describing the robots, the shipped preset and where actions show up;
 *   - lcard-1           — in the deal card's right-hand panel: a one-line hint and the robot log of
 *                         this lead (what each robot did, when and why; heads of sales may undo),
 *                         the app's card page framed with a session of this lead.
 *
 *   - digital_pipeline  — a Digital Pipeline action: the admin picks which Reglament action runs
 *                         when a lead enters the stage (the `action` field of the manifest's dp block).
 *                         amoCRM signs nothing it sends to the DP webhook, so the action carries the
 *                         account's key (hidden `reglament_key` field): the widget asks the app for it
 *                         with the disposable token (administrators only) and fills it in.
 *
 * The settings page, the advanced settings page and the card load the app's own pages for this
 * account. The widget asks the app for a page address with self.$authorizedAjax(), which sends
 * amoCRM's disposable X-Auth-Token (an HS256 JWT the server verifies with the integration's
 * secret: signature, audience, account); the app answers with a short-lived address of the page.
 * Until the app serves those pages (issue 12, items 1 and 4), the widget shows the description
 * below. It holds no secrets; never put client_secret or tokens here.
 *
 * APP_URL is written by `npm run build:widget` from the deployment's PUBLIC_URL.
 *
 * Preset texts follow config/presets/amocrm-primary-market.json: keep them in step.
 */
define(['jquery'], function ($) {
  'use strict';

  var CSS_ID = 'reglament-widget-css';
  var APP_URL = '{{PUBLIC_URL}}';
  var PAGE_SESSION_PATH = '/amocrm/widget/settings-session';
  var CARD_SESSION_PATH = '/amocrm/widget/card-session';
  var CARD_PAGE_PREFIX = '/apps/card/';
  var DP_KEY_PATH = '/amocrm/widget/dp-key';
  /** The dp.settings fields of manifest.json. */
  var DP_ACTION_FIELD = 'action';
  var DP_KEY_FIELD = 'reglament_key';

  /** Reglament's actions for a Digital Pipeline stage (the app's automation actions). */
  var DP_ACTIONS = [
    { value: 'check_transition', ru: 'Проверить переход по регламенту', en: 'Check the move against the regulation' },
    { value: 'distribute_lead', ru: 'Передать лид по распределению', en: 'Assign the lead by distribution' },
    { value: 'book_unit', ru: 'Забронировать объект', en: 'Book the unit' },
    { value: 'release_unit', ru: 'Снять бронь', en: 'Release the booking' },
    { value: 'rename_deal', ru: 'Переименовать сделку', en: 'Rename the deal' }
  ];

  var TEXTS = {
    ru: {
      pageLoading: 'Загружаем страницу Reglament…',
      pageUnavailable: 'Страница Reglament для этого аккаунта пока недоступна; ниже — описание роботов.',
      dpChoose: 'Что сделать, когда сделка попадает на этап',
      dpKeyFailed: 'Не удалось получить ключ Reglament: действие можно сохранить только администратору аккаунта, в котором установлен Reglament. Откройте настройки действия ещё раз.',
      cardHint: 'Reglament: действия роботов — в примечаниях сделки',
      cardContact: 'Вопросы по регламенту: ',
      settingsNote:
        'Роботы работают на сервере Reglament: после установки они получают события аккаунта и проверяют каждую сделку. ' +
        'Регламент воронки и роботы настраиваются на странице Reglament в разделе «Настройки» (для администраторов аккаунта и руководителей отдела продаж).',
      soon: 'скоро',
      active: 'работает',
      intro: [
        'Роботы регламента продаж для застройщиков: следят, чтобы сделки двигались по воронке так, как записано в регламенте отдела продаж.',
        'Роботы работают на сервере Reglament. amoCRM сообщает им о создании и изменении сделок и контактов; робот проверяет изменение и при необходимости исправляет его. ' +
          'Запускать ничего не нужно — достаточно установленной интеграции и подключённого регламента. ' +
          'События приходят через вебхуки, поэтому нужен тариф «Расширенный» или «Профессиональный».'
      ],
      robotsTitle: 'Роботы',
      robots: [
        {
          name: 'Страж этапов',
          active: true,
          text: [
            'Проверяет каждый переход сделки: разрешён ли он регламентом, не пропущен ли обязательный этап, заполнены ли обязательные поля, указана ли причина закрытия.',
            'amoCRM не умеет запрещать перемещение, поэтому робот исправляет его сразу после: возвращает сделку на этап, с которого она ушла, пишет причину в примечание и ставит менеджеру задачу. ' +
              'Нарушения считаются по каждому менеджеру за день: когда их набирается три (порог настраивается), задачу получает руководитель отдела продаж.',
            'Переход в «Встреча состоялась» фиксируется: дата и менеджер записываются в примечание и в учёт встреч за месяц.'
          ],
          note: 'Перемещения администраторов и руководителей отдела продаж по умолчанию не отменяются. Робот работает на воронках, к которым подключён регламент.'
        },
        {
          name: 'Ловец дублей',
          active: true,
          text: ['Узнаёт повторное обращение действующего клиента по телефону и e-mail и привязывает новую сделку к уже существующему контакту, чтобы повторный звонок не считался новым лидом.']
        },
        {
          name: 'Переименование сделок',
          active: true,
          text: ['Называет сделку по шаблону «номер / клиент / объект», например «1542 / Иван Петров / кв. 5-101». Если клиента или объекта ещё нет, эта часть пропускается.'],
          note: 'Объект берётся из поля сделки «Объект» (поле настраивается). Если изменить название вручную, робот вернёт его к шаблону.'
        },
        {
          name: 'Таймер взятия в работу',
          active: true,
          text: ['Новую заявку нужно взять в работу за 15 рабочих минут. Если менеджер не успел, робот передаёт заявку следующему менеджеру по распределению (по результатам месяца) и сообщает руководителю отдела продаж.']
        },
        {
          name: 'Снятие просроченной брони',
          active: true,
          text: ['Когда срок брони истёк, переводит сделку на этап «Бронь истекла» и напоминает менеджеру и руководителю о клиенте, который был готов купить.']
        },
        {
          name: 'Синхронизация статусов объектов',
          active: true,
          text: ['При брони, договоре и снятии брони меняет статус квартиры в системе учёта объектов (например, Profitbase), чтобы на сайте и в шахматке статус совпадал с CRM.']
        }
      ],
      presetsTitle: 'Регламент (пресет)',
      presetsIntro:
        'Регламент воронки описан по названиям этапов и полей. При подключении Reglament сопоставляет его с вашей воронкой: регистр, «ё/е» и кавычки не важны. ' +
        'Если обязательный этап или поле не найдены, регламент не включается, и мы сообщаем, что переименовать или сопоставить вручную: Reglament не угадывает. ' +
        'Этапы воронки, которых нет в регламенте, не контролируются.',
      preset: {
        title: 'amoCRM — воронка «Первичный рынок»',
        meta: 'amocrm-primary-market, версия 1 · Источник: урок для менеджеров «Воронка Первичный рынок» — этапы и их смысл, сценарии движения клиента 1–4.',
        chain: ['Передан в работу', 'Потребности выявлены', 'Встреча назначена', 'Встреча состоялась', 'Отправлено КП', 'ОС получена', 'Успешно реализовано'],
        rules: [
          '«Встреча состоялась» нельзя перепрыгивать: без неё нельзя в «Успешно реализовано», а после назначенной встречи — и в «Отправлено КП» и «ОС получена». При переходе фиксируются дата встречи и менеджер: по ним распределяются лиды на следующий месяц.',
          '«Встреча назначена» — обязательно дата, время и место встречи; «Встреча состоялась» — дата встречи.',
          '«На закрытие» и «Закрыто и не реализовано» — обязательно причина.',
          'После первого контакта из «Передан в работу» или «Для передачи» сделка идёт в «Не дозвонились», «Потребности выявлены» или «Встреча назначена».',
          '«Отложенный спрос» — только когда потребности уже выявлены. Любого клиента в работе можно передать другому менеджеру («Для передачи») или отправить «На закрытие»; оттуда руководитель передаёт его на прозвон или закрывает.',
          'Технические этапы («Неразобранное», «Технический этап», «Новый лид», «Квалификатор») ведут в работу только через «Передан в работу» или «Для передачи».'
        ]
      },
      configTitle: 'Что настраивается',
      config: [
        'Какие воронки подчиняются регламенту; при необходимости — явное сопоставление этапов и полей.',
        'Сколько нарушений в день у одного менеджера приводит к задаче руководителю (по умолчанию 3).',
        'Кто руководители отдела продаж (если не указаны — администраторы аккаунта) и чьи перемещения не отменяются.',
        'Шаблон названия сделки и поле, в котором хранится объект.',
        'Тексты сообщений робота; язык сообщений — русский, доступен английский.'
      ],
      configNote: 'Всё это настраивается на странице Reglament выше: ошибки показываются у поля, регламент можно проверить на истории воронки до включения.',
      whereTitle: 'Где видны действия роботов',
      where: [
        {
          title: 'Примечания сделки',
          text: 'Служебное примечание «Reglament»: что нарушено и куда возвращена сделка; отметка «Встреча состоялась» с датой и менеджером.',
          example: 'Нельзя перейти из «Не дозвонились» в «На закрытие»: укажите причину в поле «Причина закрытия».\nСделка возвращена на этап «Не дозвонились».'
        },
        {
          title: 'Задачи',
          text: 'У интеграций amoCRM нет личных уведомлений, поэтому менеджер, чей переход отменён, получает задачу по сделке с тем же текстом (срок — час). Руководитель отдела продаж получает задачу, когда менеджер за день достиг порога нарушений.'
        },
        {
          title: 'Название и история сделки',
          text: 'Переименование видно в названии сделки и в её истории. Возврат на прежний этап тоже остаётся в истории.'
        }
      ]
    },

    en: {
      pageLoading: 'Loading the Reglament page…',
      pageUnavailable: 'The Reglament page for this account is not available yet; the robots are described below.',
      dpChoose: 'What to do when a lead enters the stage',
      dpKeyFailed: 'Could not get the Reglament key: only an administrator of an account where Reglament is installed can save this action. Open the action settings again.',
      cardHint: 'Reglament: robot actions are in the deal notes',
      cardContact: 'Questions about the regulation: ',
      settingsNote:
        'The robots run on the Reglament server: once installed, they receive the account’s events and check every deal. ' +
        'The pipeline regulation and the robots are configured on the Reglament page under Settings (for account administrators and heads of sales).',
      soon: 'coming soon',
      active: 'active',
      intro: [
        'Sales-regulation robots for real-estate developers: they keep deals moving through the pipeline the way the sales department’s regulation says.',
        'The robots run on the Reglament server. amoCRM tells them about deals and contacts that are created or changed; a robot checks the change and corrects it when needed. ' +
          'There is nothing to start: the installed integration and a connected regulation are enough. ' +
          'Events arrive through webhooks, which need the Advanced or Professional plan.'
      ],
      robotsTitle: 'Robots',
      robots: [
        {
          name: 'Stage guard',
          active: true,
          text: [
            'Checks every move of a deal: whether the regulation allows it, whether a mandatory stage was skipped, whether the required fields are filled in, whether a closing reason is given.',
            'amoCRM cannot forbid a move, so the robot corrects it right after: it moves the deal back to the stage it came from, writes the reason into a note and sets the manager a task. ' +
              'Violations are counted per manager per day: when a manager reaches three (the threshold is configurable), the head of sales gets a task.',
            'Entering “Встреча состоялась” (meeting held) is recorded: the date and the manager go into a note and into the month’s meeting log.'
          ],
          note: 'By default, moves by administrators and heads of sales are not reverted. The robot works on pipelines that have a regulation connected.'
        },
        {
          name: 'Duplicate catcher',
          active: true,
          text: ['Recognises a repeat request from an existing client by phone and e-mail and links the new deal to the existing contact, so a repeat call is not counted as a new lead.']
        },
        {
          name: 'Deal renamer',
          active: true,
          text: ['Names a deal “number / client / unit”, e.g. “1542 / Ivan Petrov / apt. 5-101”. A part that is not known yet is left out.'],
          note: 'The unit comes from the deal field «Объект» (configurable). If the title is edited by hand, the robot restores the template.'
        },
        {
          name: 'Takeover timer',
          active: true,
          text: ['A new request must be taken into work within 15 working minutes. If the manager does not make it, the robot hands it to the next manager by distribution (by the month’s results) and tells the head of sales.']
        },
        {
          name: 'Booking releaser',
          active: true,
          text: ['When a booking expires, moves the deal to “Booking expired” and reminds the manager and the head of sales about a client who was ready to buy.']
        },
        {
          name: 'Unit status sync',
          active: true,
          text: ['On booking, contract and release, updates the unit’s status in the inventory system (e.g. Profitbase), so the website and the unit chart match the CRM.']
        }
      ],
      presetsTitle: 'Regulation (preset)',
      presetsIntro:
        'A pipeline regulation is written against stage and field names. When it is connected, Reglament matches it to your pipeline: case, “ё/е” and quotes do not matter. ' +
        'If a mandatory stage or field is not found, the regulation is not switched on and we tell you what to rename or map by hand: Reglament never guesses. ' +
        'Stages the regulation does not describe are not governed.',
      preset: {
        title: 'amoCRM — “Primary market” pipeline',
        meta: 'amocrm-primary-market, version 1 · Source: the managers’ lesson “Воронка Первичный рынок” (Primary market pipeline): the stages and what they mean, client scenarios 1–4.',
        chain: ['Передан в работу', 'Потребности выявлены', 'Встреча назначена', 'Встреча состоялась', 'Отправлено КП', 'ОС получена', 'Успешно реализовано'],
        rules: [
          '«Встреча состоялась» (meeting held) must never be skipped: no «Успешно реализовано» (won) without it, and once a meeting was set, no «Отправлено КП» or «ОС получена» either. The move records the meeting date and the manager, which drive next month’s lead distribution.',
          '«Встреча назначена» needs the meeting date, time and place; «Встреча состоялась» the meeting date.',
          '«На закрытие» and «Закрыто и не реализовано» (lost) need a reason.',
          'After the first contact, a deal goes from «Передан в работу» or «Для передачи» to «Не дозвонились», «Потребности выявлены» or «Встреча назначена».',
          '«Отложенный спрос» (deferred demand) only once needs are identified. Any client in work may be handed to another manager («Для передачи») or sent to «На закрытие»; from there the head of sales hands them over or closes them.',
          'The technical stages («Неразобранное», «Технический этап», «Новый лид», «Квалификатор») lead into work only through «Передан в работу» or «Для передачи».'
        ]
      },
      configTitle: 'What can be configured',
      config: [
        'Which pipelines the regulation governs; explicit stage and field mapping where names differ.',
        'How many violations a day by one manager give the head of sales a task (3 by default).',
        'Who the heads of sales are (account administrators if none are set) and whose moves are never reverted.',
        'The deal title template and the field that holds the unit.',
        'The robot’s message texts; messages are in Russian, English is available.'
      ],
      configNote: 'All of this is configured on the Reglament page above: errors show at the field, and a regulation can be tried on the pipeline’s history before it is switched on.',
      whereTitle: 'Where robot actions show up',
      where: [
        {
          title: 'Deal notes',
          text: 'A “Reglament” service note: which rule was broken and where the deal was moved back to; the meeting-held record with the date and the manager.',
          example: 'The deal cannot move from “Не дозвонились” to “На закрытие”: state the reason in the field “Причина закрытия”.\nThe deal was moved back to “Не дозвонились”.'
        },
        {
          title: 'Tasks',
          text: 'amoCRM integrations have no personal notifications, so the manager whose move was reverted gets a task on the deal with the same text (due in an hour). The head of sales gets a task when a manager reaches the day’s violation threshold.'
        },
        {
          title: 'Deal title and history',
          text: 'A rename shows in the deal title and its history. A move back to the previous stage stays in the history too.'
        }
      ]
    }
  };

  function escapeHtml(value) {
    return String(value).replace(/[&<>"']/g, function (c) {
      return '&#' + c.charCodeAt(0) + ';';
    });
  }

  /** Escapes, then keeps the line breaks of a multi-line text. */
  function multiline(value) {
    return escapeHtml(value).replace(/\n/g, '<br>');
  }

  function list(items, className) {
    var html = '<ul class="' + className + '">';
    for (var i = 0; i < items.length; i++) html += '<li>' + escapeHtml(items[i]) + '</li>';
    return html + '</ul>';
  }

  var CustomWidget = function () {
    var self = this;

    /** The account language picks the texts: Russian unless the account is in English. */
    function texts() {
      var lang = (window.AMOCRM && window.AMOCRM.lang_id) || 'ru';
      return String(lang).slice(0, 2) === 'en' ? TEXTS.en : TEXTS.ru;
    }

    function settings() {
      return self.get_settings() || {};
    }

    function loadStyles() {
      if (document.getElementById(CSS_ID)) return;
      var s = settings();
      if (!s.path) return;
      $('head').append(
        '<link id="' + CSS_ID + '" rel="stylesheet" type="text/css" href="' +
          escapeHtml(s.path + '/style.css?v=' + (s.version || '')) + '">'
      );
    }

    function locale() {
      var lang = (window.AMOCRM && window.AMOCRM.lang_id) || 'ru';
      return String(lang).slice(0, 2) === 'en' ? 'en' : 'ru';
    }

    /**
     * Shows the app's page for `area` in $target: asks the app for the page address with the
     * disposable token, then frames it. Anything else (no answer, a refusal, an address that is
     * not the app's) leaves the fallback content in place with a short note.
     */
    function openAppPage(area, params, $target, fallbackHtml) {
      var t = texts();
      $target.html('<div class="reglament-widget reglament-widget__muted">' + escapeHtml(t.pageLoading) + '</div>');
      var fallback = function () {
        $target.html('<div class="reglament-widget reglament-widget__muted reglament-widget__unavailable">' + escapeHtml(t.pageUnavailable) + '</div>' + (fallbackHtml || ''));
      };
      if (typeof self.$authorizedAjax !== 'function') return fallback();
      self.$authorizedAjax({
        url: APP_URL + PAGE_SESSION_PATH,
        method: 'POST',
        dataType: 'json',
        data: $.extend({ area: area, lang: locale() }, params || {})
      }).done(function (answer) {
        var url = answer && typeof answer.settingsUrl === 'string' ? answer.settingsUrl : '';
        if (url.indexOf(APP_URL + '/') !== 0) return fallback();
        $target.html('<iframe class="reglament-widget__frame reglament-widget__frame_' + escapeHtml(area) + '" src="' + escapeHtml(url) + '" title="Reglament"></iframe>');
      }).fail(fallback);
    }

    /**
     * The Digital Pipeline action's settings: amoCRM renders the manifest's `action` text field;
     * the widget puts a list of Reglament's actions next to it and writes the chosen code into it.
     */
    function enhanceDpSettings($scope) {
      fillDpKey($scope);
      var $input = $scope.find('input[name="' + DP_ACTION_FIELD + '"]').last();
      if (!$input.length || $input.data('reglament-enhanced')) return;
      var lang = locale();
      var current = $.trim(String($input.val() || ''));
      var html = '<label class="reglament-widget reglament-widget__dp"><span>' + escapeHtml(texts().dpChoose) + '</span><select>';
      for (var i = 0; i < DP_ACTIONS.length; i++) {
        var a = DP_ACTIONS[i];
        html += '<option value="' + escapeHtml(a.value) + '"' + (a.value === current ? ' selected' : '') + '>' + escapeHtml(a[lang]) + '</option>';
      }
      html += '</select></label>';
      var $choice = $(html);
      $input.data('reglament-enhanced', true).hide().after($choice);
      var sync = function () {
        $input.val($choice.find('select').val()).trigger('change');
      };
      $choice.find('select').on('change', sync);
      if (!current) sync();
    }

    /** The lead whose card is open (amoCRM's AMOCRM.data.current_card), as digits, or null. */
    function currentLeadId() {
      var data = window.AMOCRM && window.AMOCRM.data;
      var id = data && data.current_card && data.current_card.id;
      return /^\d{1,20}$/.test(String(id || '')) ? String(id) : null;
    }

    /**
     * The lead's robot log: the disposable token (X-Auth-Token) and the lead id buy a card session of
     * that lead; the app's card page is framed with it. Without an answer the hint alone stays.
     */
    function openCardLog($target, leadId) {
      if (!$target.length || !leadId || typeof self.$authorizedAjax !== 'function') return;
      self.$authorizedAjax({
        url: APP_URL + CARD_SESSION_PATH,
        method: 'POST',
        dataType: 'json',
        data: { leadId: leadId, lang: locale() }
      }).done(function (answer) {
        var url = answer && typeof answer.cardUrl === 'string' ? answer.cardUrl : '';
        if (url.indexOf(APP_URL + CARD_PAGE_PREFIX) !== 0) return;
        $target.html('<iframe class="reglament-widget__frame reglament-widget__frame_card" src="' + escapeHtml(url) + '" title="Reglament"></iframe>');
      });
    }

    /**
     * The action's key: asked from the app with the disposable token every time the settings open
     * (the app hands it to account administrators only), written into the hidden field amoCRM saves
     * with the action and sends back with every DP event. Without it the app refuses the event.
     */
    function fillDpKey($scope) {
      var $key = $scope.find('input[name="' + DP_KEY_FIELD + '"]').last();
      if (!$key.length || $key.data('reglament-enhanced')) return;
      $key.data('reglament-enhanced', true).hide();
      // The field's own row (its label) is hidden with it when the row holds nothing else.
      var $row = $key.parent();
      if ($row.find('input, select, textarea').length === 1) $row.hide();
      var failed = function () {
        $row.after('<div class="reglament-widget reglament-widget__muted reglament-widget__unavailable">' + escapeHtml(texts().dpKeyFailed) + '</div>');
      };
      if (typeof self.$authorizedAjax !== 'function') return failed();
      self.$authorizedAjax({ url: APP_URL + DP_KEY_PATH, method: 'POST', dataType: 'json', data: {} })
        .done(function (answer) {
          var key = answer && typeof answer.key === 'string' ? answer.key : '';
          if (!/^[A-Za-z0-9_-]{20,100}$/.test(key)) return failed();
          if ($key.val() !== key) $key.val(key).trigger('change');
        })
        .fail(failed);
    }

    function cardHintHtml() {
      var t = texts();
      var contact = $.trim(String(settings().support_contact || ''));
      var html = '<div class="reglament-widget reglament-widget__card">' + escapeHtml(t.cardHint);
      if (contact) html += '<div class="reglament-widget__muted">' + escapeHtml(t.cardContact + contact) + '</div>';
      return html + '</div>';
    }

    function robotHtml(robot, t) {
      var html = '<section class="reglament-widget__robot' + (robot.active ? '' : ' reglament-widget__robot_soon') + '">';
      html += '<header><h3>' + escapeHtml(robot.name) + '</h3>';
      html += '<span class="reglament-widget__badge' + (robot.active ? ' reglament-widget__badge_on' : '') + '">' +
        escapeHtml(robot.active ? t.active : t.soon) + '</span></header>';
      for (var i = 0; i < robot.text.length; i++) html += '<p>' + escapeHtml(robot.text[i]) + '</p>';
      if (robot.note) html += '<p class="reglament-widget__muted">' + escapeHtml(robot.note) + '</p>';
      return html + '</section>';
    }

    function advancedPageHtml() {
      var t = texts();
      var i;
      var html = '<div class="reglament-widget reglament-widget__page">';
      for (i = 0; i < t.intro.length; i++) html += '<p>' + escapeHtml(t.intro[i]) + '</p>';

      html += '<h2>' + escapeHtml(t.robotsTitle) + '</h2><div class="reglament-widget__grid">';
      for (i = 0; i < t.robots.length; i++) html += robotHtml(t.robots[i], t);
      html += '</div>';

      html += '<h2>' + escapeHtml(t.presetsTitle) + '</h2><p>' + escapeHtml(t.presetsIntro) + '</p>';
      html += '<section class="reglament-widget__preset"><h3>' + escapeHtml(t.preset.title) + '</h3>';
      html += '<p class="reglament-widget__muted">' + escapeHtml(t.preset.meta) + '</p>';
      html += list(t.preset.chain, 'reglament-widget__chain');
      html += list(t.preset.rules, 'reglament-widget__rules') + '</section>';

      html += '<h3>' + escapeHtml(t.configTitle) + '</h3>' + list(t.config, 'reglament-widget__rules');
      html += '<p class="reglament-widget__muted">' + escapeHtml(t.configNote) + '</p>';

      html += '<h2>' + escapeHtml(t.whereTitle) + '</h2><div class="reglament-widget__grid">';
      for (i = 0; i < t.where.length; i++) {
        var w = t.where[i];
        html += '<div class="reglament-widget__where"><h3>' + escapeHtml(w.title) + '</h3><p>' + escapeHtml(w.text) + '</p>';
        if (w.example) html += '<p class="reglament-widget__example">' + multiline(w.example) + '</p>';
        html += '</div>';
      }
      return html + '</div></div>';
    }

    this.callbacks = {
      render: function () {
        if (self.system().area === 'lcard') {
          self.render_template({
            caption: { class_name: 'reglament-widget__caption' },
            body: '',
            render: cardHintHtml() + '<div class="reglament-widget__card-log"></div>'
          });
          openCardLog($('.reglament-widget__card-log').last(), currentLeadId());
        }
        return true;
      },

      init: function () {
        loadStyles();
        return true;
      },

      bind_actions: function () {
        return true;
      },

      settings: function ($modal_body) {
        loadStyles();
        var $body = $modal_body && $modal_body.length ? $modal_body : $('.widget-settings');
        if ($body.find('.reglament-widget__settings-note').length) return true;
        var note = '<div class="reglament-widget reglament-widget__settings-note">' + escapeHtml(texts().settingsNote) + '</div>';
        var $block = $body.find('.widget_settings_block');
        ($block.length ? $block.first() : $body).append(note + '<div class="reglament-widget__settings-page"></div>');
        openAppPage('settings', {}, $body.find('.reglament-widget__settings-page').first(), '');
        return true;
      },

      // The settings (the optional support contact) are stored by amoCRM itself; nothing to send.
      onSave: function () {
        return true;
      },

      destroy: function () {
        return true;
      },

      advancedSettings: function () {
        loadStyles();
        var $area = $('#work-area-' + settings().widget_code);
        if (!$area.length) return true;
        openAppPage('advanced_settings', {}, $area, advancedPageHtml());
        return true;
      },

      // Called when the admin opens the widget's action in a Digital Pipeline stage.
      dpSettings: function () {
        loadStyles();
        enhanceDpSettings($(document.body));
        return true;
      },

      // Lists and the sources area are not used (no llist/lead_sources location); amoCRM may still ask.
      contacts: { selected: function () { return true; } },
      leads: { selected: function () { return true; } },
      tasks: { selected: function () { return true; } }
    };

    return this;
  };

  // For the build's tests: the actions offered in the Digital Pipeline.
  CustomWidget.dpActions = DP_ACTIONS;
  CustomWidget.dpKey = { path: DP_KEY_PATH, field: DP_KEY_FIELD, actionField: DP_ACTION_FIELD };
  return CustomWidget;
});
