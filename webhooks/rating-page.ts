import { Router } from 'express';
import { encryptionKeyBytes } from '../src/config';
import { installationRating, INSTALLATION_ID } from '../src/rating/installation-rating';
import { MONTH } from '../src/rating/monthly-rating';
import { verifyRatingLink } from '../src/rating/rating-link';
import { ratingPage } from '../src/rating/rating-svg';
import type { Services } from '../src/services';

/**
 * GET /rating/<installationId>/<YYYY-MM>?exp=<unix ms>&sig=<hmac>: the monthly manager rating
 * with its bar chart, for the heads of sales who got the signed link (src/rating/rating-link.ts).
 * Malformed: 400; bad or expired signature: 403; unknown installation: 404. Reads only.
 */
export function ratingRouter(services: Services): Router {
  const router = Router();
  const secret = encryptionKeyBytes(services.config);
  router.get('/rating/:installationId/:month', async (req, res, next) => {
    try {
      const { installationId, month } = req.params;
      const exp = typeof req.query.exp === 'string' && /^\d{1,16}$/.test(req.query.exp) ? Number(req.query.exp) : NaN;
      const sig = typeof req.query.sig === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(req.query.sig) ? req.query.sig : null;
      if (!INSTALLATION_ID.test(installationId) || !MONTH.test(month) || !Number.isFinite(exp) || !sig) {
        res.status(400).json({ error: 'bad_request', reason: 'expected /rating/<installationId>/<YYYY-MM>?exp=…&sig=…' });
        return;
      }
      if (!verifyRatingLink(secret, installationId, month, exp, sig, Date.now())) {
        res.status(403).json({ error: 'forbidden', reason: 'the link is not valid or has expired' });
        return;
      }
      const installation = await services.store.find(installationId);
      if (!installation) {
        res.status(404).json({ error: 'not_found' });
        return;
      }
      const { rating, worst } = await installationRating(services, installation, month);
      res.set('Cache-Control', 'private, no-store').type('html').send(ratingPage(rating, `Рейтинг менеджеров за ${month}`, worst));
    } catch (err) {
      next(err);
    }
  });
  return router;
}
