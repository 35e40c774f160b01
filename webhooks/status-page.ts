import { Router } from 'express';
import type { Services } from '../src/services';

/** A local page listing installations and the latest robot actions (development and demo only). */
export function statusRouter(services: Services): Router {
  const router = Router();
  router.get('/status.json', async (_req, res) => {
    const installations = await installationsView(services);
    res.json({ installations, actions: await services.actions.latestOf(installations.map((i) => i.id), 50) });
  });
  router.get('/', async (_req, res) => {
    const installations = await installationsView(services);
    const actions = await services.actions.latestOf(installations.map((i) => i.id), 50);
    const rows = (cells: string[][]) => cells.map((c) => `<tr>${c.map((v) => `<td>${escape(v)}</td>`).join('')}</tr>`).join('');
    res.type('html').send(`<!doctype html><html lang="ru"><head><meta charset="utf-8"><meta http-equiv="refresh" content="3"><title>Reglament — локальный стенд</title>
<style>body{font:14px system-ui;margin:2em}table{border-collapse:collapse;margin-bottom:2em}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}</style></head><body>
<h1>Reglament</h1><h2>Установки</h2><table><tr><th>id</th><th>CRM</th><th>портал</th><th>статус</th><th>с</th></tr>${rows(installations.map((i) => [i.id, i.crm, i.where, i.status, i.installedAt]))}</table>
<h2>Последние действия роботов</h2><table><tr><th>время</th><th>установка</th><th>робот</th><th>сделка</th><th>что</th><th>было</th><th>стало</th></tr>${rows(
      actions.map((a) => [a.at, a.installationId, a.robot, `${a.target.entity} ${a.target.id}`, a.summary, a.before ?? '', a.after ?? '']),
    )}</table></body></html>`);
  });
  return router;
}

async function installationsView(services: Services) {
  return (await services.store.list()).map((i) => ({
    id: i.id,
    crm: i.crm,
    where: i.crm === 'bitrix24' ? i.domain : i.subdomain,
    status: i.status,
    installedAt: i.installedAt,
  }));
}

function escape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
