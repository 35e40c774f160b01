/**
 * "Test connection" for an installation's inventory: reachability, the key, the unit lookup —
 * each step says plainly what is wrong (bad key, wrong URL, unit not found).
 */
import type { Installation } from '../installations/installation';
import type { Inventories } from './inventories';
import { inventoryConnectionOf } from './inventories';
import { HttpInventory } from './http/http-inventory';
import { InventoryConfigError } from './inventory-port';

export interface ConnectionCheck {
  ok: boolean;
  lines: string[];
}

export async function testInventoryConnection(inventories: Inventories, installation: Installation, unitText?: string): Promise<ConnectionCheck> {
  const lines: string[] = [];
  let connection;
  try {
    connection = inventoryConnectionOf(installation);
  } catch (err) {
    return { ok: false, lines: [`✗ ${(err as Error).message}`] };
  }
  if (!connection) return { ok: false, lines: ['✗ no inventory configured: set unitStatusSync.inventory, e.g. npm run settings -- set <id> unitStatusSync.inventory \'{"system":"profitbase","baseUrl":"https://pbNNNNN.profitbase.ru/api/v4/json","apiKey":"app-…","houseId":123}\''] };
  const system = connection.system === 'profitbase' ? 'Profitbase' : '1C HTTP service';
  lines.push(`  ${system} at ${connection.baseUrl}`);
  try {
    const inventory = inventories.connect(connection);
    if (inventory instanceof HttpInventory) {
      const health = await inventory.health();
      lines.push(`✓ reachable, the key is accepted (status ${health.status}${health.version ? `, version ${health.version}` : ''})`);
    } else {
      // Authentication plus one read: the key, the URL and the API app's rights in one request each.
      await inventory.getUnit('1');
      lines.push('✓ reachable, the API key is accepted');
    }
    if (unitText) {
      const unit = await inventory.findUnit(unitText);
      if (!unit) {
        const scope = connection.system === 'profitbase' ? (connection.houseId ? ` in house ${connection.houseId}` : connection.projectId ? ` in project ${connection.projectId}` : '') : connection.house ? ` in house «${connection.house}»` : connection.project ? ` in project «${connection.project}»` : '';
        lines.push(`✗ unit «${unitText}» not found${scope}: check the number, or houseId/projectId (Profitbase) / project/house (1C) in unitStatusSync.inventory`);
        return { ok: false, lines };
      }
      lines.push(`✓ unit «${unitText}» is ${unit.id} (${[unit.project, unit.house].filter(Boolean).join(', ') || 'no project'}), status ${unit.status}${unit.heldByDeal ? `, held by ${unit.heldByDeal}` : ''}`);
    }
    return { ok: true, lines };
  } catch (err) {
    if (err instanceof InventoryConfigError) lines.push(`✗ ${err.message}`);
    else lines.push(`✗ ${(err as Error).message}`);
    return { ok: false, lines };
  }
}
