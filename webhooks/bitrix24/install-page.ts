/**
 * What Bitrix24 shows in its frame after the install POST. A UI app is not installed (and gets
 * no events) until the page calls BX24.installFinish().
 */
export function installFinishedPage(): string {
  return `<!doctype html>
<html lang="ru"><head><meta charset="utf-8"><title>Reglament</title>
<script src="//api.bitrix24.com/api/v1/"></script></head>
<body>
<p>Reglament установлен: роботы регламента продаж подключены к воронкам.</p>
<script>if (window.BX24) { BX24.init(function () { BX24.installFinish(); }); }</script>
</body></html>`;
}
