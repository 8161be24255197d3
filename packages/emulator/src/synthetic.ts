/** The `synthetic:N` dataset: N repositories whose languages are drawn from the 2016 model. */
import { IdSpaceDataset, type Repo, type ResolvedRates } from './dataset.js';
import { type LanguageBytes, sampleLanguages } from './language-model.js';
import { model2016 } from './model-2016.js';

/** Rates fitted to (or, where the 2016 data says nothing, assumed for) the real API. */
export const syntheticDefaultRates: ResolvedRates = {
  empty: model2016.emptyShare - model2016.errorShare,
  fork: 0.2,
  missing: 0.0005,
  dmca: 0.00004,
  tos: 0.00004,
  unavailable: 0.00002,
  renamed: 0.001,
};

/** Generates every repository from its id; nothing is stored. */
export class SyntheticDataset extends IdSpaceDataset {
  readonly kind = 'synthetic';

  languages(repo: Repo): LanguageBytes {
    return sampleLanguages(this.seed, repo.id, this.rates.empty);
  }
}
