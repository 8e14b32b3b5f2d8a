-- The knowledge base: articles per locale, searched with PostgreSQL's full
-- text search (the locale's Snowball configuration over unaccented text) and
-- pg_trgm (typos in the title), and the events of its use. SQL in
-- lib/store/store_kb.c; the score is explained in lib/store/at_store_kb.h.

-- Both are trusted extensions (PostgreSQL 13+): the database owner may
-- create them.
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- unaccent() is STABLE (its dictionary could change); a generated column and
-- an index need an IMMUTABLE function. The dictionary is named with its
-- schema, and the body is parsed now (RETURN), so search_path never matters.
CREATE FUNCTION at_kb_unaccent (text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
RETURN public.unaccent ('public.unaccent'::regdictionary, $1);

-- The text search configuration of a locale.
CREATE FUNCTION at_kb_config (locale text) RETURNS regconfig
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
RETURN CASE locale WHEN 'en' THEN 'pg_catalog.english'::regconfig
                   WHEN 'es' THEN 'pg_catalog.spanish'::regconfig
                   ELSE 'pg_catalog.portuguese'::regconfig END;

-- What an article is searched by: title and tags weigh A, the body B.
CREATE FUNCTION at_kb_document (locale text, title text, tags text[], body text) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN setweight (to_tsvector (at_kb_config (locale), at_kb_unaccent (coalesce (title, ''))), 'A')
    || setweight (to_tsvector (at_kb_config (locale),
                               at_kb_unaccent (array_to_string (coalesce (tags, '{}'), ' '))), 'A')
    || setweight (to_tsvector (at_kb_config (locale), at_kb_unaccent (coalesce (body, ''))), 'B');

-- The stemmed, unaccented forms of the stop words that carry accents ("não",
-- "você", "también": unaccented first, they escape the stop lists), and a few
-- chat words. Made from PostgreSQL's portuguese.stop and spanish.stop.
CREATE FUNCTION at_kb_stop () RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN ARRAY['ate', 'eram', 'esta', 'estav', 'estiver', 'estivess', 'for', 'foss', 'ha', 'hao',
             'houver', 'houvera', 'houveri', 'houvess', 'ja', 'nao', 'sao', 'ser', 'sera', 'seri',
             'so', 'tamb', 'ter', 'tera', 'teri', 'tinh', 'tiver', 'tivess', 'voc', 'vc', 'vcs',
             'pra', 'pro', 'oi', 'ola', 'tb', 'tbm', 'estab', 'estais', 'estan', 'estar',
             'estareis', 'estari', 'estariais', 'esteis', 'esten', 'estes', 'estuvier',
             'estuvies', 'fuer', 'fues', 'habeis', 'habi', 'habiais', 'habr', 'habreis', 'habri',
             'habriais', 'hayais', 'hubier', 'hubies', 'mas', 'mia', 'mias', 'mio', 'mios',
             'seais', 'sereis', 'seriais', 'si', 'tambi', 'tendr', 'tendreis', 'tendri',
             'tendriais', 'teneis', 'tengais', 'teni', 'teniais', 'tuvier', 'tuvies', 'hola',
             'hi', 'hello', 'q']::text[];

-- A customer's question as a query: any of its words (unaccented, stemmed,
-- stop words out) may match, joined by OR (plainto_tsquery's AND would miss
-- every article that lacks one word of a chatty question). NULL when no word
-- is left. The first 1000 characters are read.
CREATE FUNCTION at_kb_query (locale text, question text) RETURNS tsquery
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
RETURN (SELECT nullif (string_agg ('''' || replace (replace (w.lexeme, '\', '\\'), '''', '''''')
                                   || '''', ' | '), '')::tsquery
          FROM unnest (ts_delete (to_tsvector (at_kb_config (locale),
                                               at_kb_unaccent (left (question, 1000))),
                                  at_kb_stop ())) AS w);

-- The words of a question that titles and tags are compared with for typos
-- (pg_trgm): unaccented, lower case, 4 characters or more, at most 40.
CREATE FUNCTION at_kb_words (question text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
RETURN ARRAY (SELECT DISTINCT w
                FROM regexp_split_to_table (lower (at_kb_unaccent (left (question, 1000))),
                                            '[^[:alnum:]]+') AS w
               WHERE char_length (w) >= 4 LIMIT 40);

-- Title and tags, unaccented, lower case: what pg_trgm compares with.
CREATE FUNCTION at_kb_plain (title text, tags text[]) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN lower (at_kb_unaccent (coalesce (title, '') || ' '
                              || array_to_string (coalesce (tags, '{}'), ' ')));

-- How well the question's words (at_kb_words) name an article's title and
-- tags despite typos: each word whose pg_trgm word_similarity to them is 0.5
-- or more adds that similarity to r; the result is r / (r + 1) (0..1), the
-- normalisation ts_rank_cd's flag 32 gives the full-text rank, so both read
-- alike: one exact word 0.5, two 0.67, three 0.75.
CREATE FUNCTION at_kb_typo (words text[], plain text) RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
RETURN (SELECT r / (r + 1)
          FROM (SELECT coalesce (sum (s) FILTER (WHERE s >= 0.5), 0)::double precision AS r
                  FROM (SELECT word_similarity (w, plain) AS s FROM unnest (words) AS w) AS x) AS y);

CREATE TABLE kb_article (
  id          bigserial PRIMARY KEY,
  locale      text NOT NULL CHECK (locale IN ('pt-BR', 'en', 'es')),
  title       text NOT NULL CHECK (char_length (title) BETWEEN 1 AND 200),
  body        text NOT NULL CHECK (char_length (body) BETWEEN 1 AND 20000),
  tags        text[] NOT NULL DEFAULT '{}' CHECK (cardinality (tags) <= 20),
  status      text NOT NULL DEFAULT 'draft' CHECK (status IN ('published', 'draft')),
  created_at  timestamptz NOT NULL DEFAULT now (),
  updated_at  timestamptz NOT NULL DEFAULT now (),
  created_by  text NOT NULL,                        -- actor: user:<id>, key:<id>
  search      tsvector GENERATED ALWAYS AS (at_kb_document (locale, title, tags, body)) STORED,
  title_plain text GENERATED ALWAYS AS (at_kb_plain (title, tags)) STORED
);
CREATE INDEX kb_article_search ON kb_article USING gin (search);
CREATE INDEX kb_article_title_trgm ON kb_article USING gin (title_plain gin_trgm_ops);
CREATE INDEX kb_article_locale ON kb_article (locale, status, id);

-- What happened with the knowledge base:
--   suggested  route answered a question with the article; answered_at is
--              NULL while the "sim/não" is awaited (one such row per ticket
--              at most), then set with outcome helpful | unhelpful | unanswered
--   opened     someone read the article through the api (actor)
--   helpful, unhelpful  the customer's answer to a suggestion
--   no_result  no article scored above ATENDE_KB_MIN_SCORE (score: the best)
-- A customer's question is the ticket message message_id: its text is not
-- copied here, so erasure and retention (which blank ticket_message.body)
-- cover it too.
CREATE TABLE kb_event (
  id          bigserial PRIMARY KEY,
  kind        text NOT NULL CHECK (kind IN ('suggested', 'opened', 'helpful', 'unhelpful',
                                            'no_result')),
  article_id  bigint REFERENCES kb_article (id) ON DELETE SET NULL,
  ticket_id   bigint REFERENCES ticket (id),
  message_id  bigint REFERENCES ticket_message (id),
  locale      text,
  score       real,
  actor       text,
  answered_at timestamptz,
  outcome     text CHECK (outcome IN ('helpful', 'unhelpful', 'unanswered')),
  created_at  timestamptz NOT NULL DEFAULT now ()
);
CREATE UNIQUE INDEX kb_event_awaiting ON kb_event (ticket_id)
  WHERE kind = 'suggested' AND answered_at IS NULL;
CREATE INDEX kb_event_kind ON kb_event (kind, created_at);
CREATE INDEX kb_event_article ON kb_event (article_id) WHERE article_id IS NOT NULL;

-- The new scope kb:write (at_auth.h).
CREATE OR REPLACE FUNCTION at_scopes_known (scopes text[]) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT scopes <@ ARRAY['messages:write', 'orders:write', 'tickets:read', 'tickets:write',
                         'customers:read', 'customers:write', 'templates:write', 'kpis:read',
                         'dlq:admin', 'admin', 'kb:write']::text[]
$$;
