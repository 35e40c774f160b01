import { admissionLimits } from '../../src/crm/crm-clients';

describe("the app's Bitrix24 bucket keeps headroom under the portal's for requests that arrive unevenly", () => {
  it.each([
    ['standard plan, 1 s of drain', { burst: 50, perSecond: 2 }, 1000, { burst: 48, perSecond: 2 }],
    ['Enterprise, 1 s of drain', { burst: 250, perSecond: 5 }, 1000, { burst: 245, perSecond: 5 }],
    ['a part of a request counts whole', { burst: 50, perSecond: 2 }, 300, { burst: 49, perSecond: 2 }],
    ['no margin', { burst: 50, perSecond: 2 }, 0, { burst: 50, perSecond: 2 }],
    ['never below one request', { burst: 2, perSecond: 2 }, 5000, { burst: 1, perSecond: 2 }],
  ])('%s: the burst shrinks, the rate never does', (_what, plan, marginMs, expected) => {
    expect(admissionLimits(plan, marginMs)).toEqual(expected);
  });
});
