/** The provider's pg pool (its ledger database), provided by AppModule. */
export const LEDGER_POOL = Symbol('LEDGER_POOL');
