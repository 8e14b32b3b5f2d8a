-- The intent model's confidence (its softmax probability, 0..1) beside the
-- ticket's intent; tickets routed by the keyword rules have none. Their
-- intent `returns` is called `return_refund` by the model.
ALTER TABLE ticket ADD COLUMN intent_confidence real
  CHECK (intent_confidence IS NULL OR (intent_confidence >= 0 AND intent_confidence <= 1));
UPDATE ticket SET intent = 'return_refund' WHERE intent = 'returns';
