"""The schema as SQL text, in named migrations applied in order and recorded in `schema_migrations`.

Rules the schema encodes:
- What a person wrote (labels, critiques, judge specs, rubrics) is append-only: an edit adds a row and the
  latest row wins, so history is never lost.
- Items are content-addressed (`items.uid`): a new version of a dataset reuses the uid of every unchanged
  item, so labels and verdicts given on the old version carry over.
- A verdict is unique per (run, item, sample): a resumed run can never record a row twice.

Never edit a migration that has shipped; add a new one at the end.
"""

MIGRATIONS: list[tuple[str, str]] = [
    (
        "0001_initial",
        """
        CREATE SEQUENCE dataset_ids START 1;
        CREATE SEQUENCE annotator_ids START 1;
        CREATE SEQUENCE label_ids START 1;
        CREATE SEQUENCE rubric_ids START 1;
        CREATE SEQUENCE spec_ids START 1;
        CREATE SEQUENCE fewshot_ids START 1;
        CREATE SEQUENCE task_ids START 1;
        CREATE SEQUENCE link_ids START 1;
        CREATE SEQUENCE price_ids START 1;
        CREATE SEQUENCE baseline_ids START 1;

        -- One row per imported version of a named dataset.
        CREATE TABLE datasets (
            id           INTEGER PRIMARY KEY DEFAULT nextval('dataset_ids'),
            name         VARCHAR NOT NULL,
            version      INTEGER NOT NULL,
            source_file  VARCHAR,
            content_hash VARCHAR NOT NULL,
            column_map   JSON,
            row_count    INTEGER NOT NULL,
            created_at   TIMESTAMP NOT NULL DEFAULT current_timestamp,
            UNIQUE (name, version)
        );

        -- The content of an item; uid = hash(dataset name, item id, input, output, context, reference).
        CREATE TABLE items (
            uid          VARCHAR PRIMARY KEY,
            dataset_name VARCHAR NOT NULL,
            item_id      VARCHAR NOT NULL,
            input        VARCHAR,
            output       VARCHAR,
            context      VARCHAR,
            reference    VARCHAR
        );

        -- Which items a dataset version holds, in file order, with that version's metadata columns.
        CREATE TABLE dataset_items (
            dataset_id   INTEGER NOT NULL,
            item_uid     VARCHAR NOT NULL,
            position     INTEGER NOT NULL,
            metadata     JSON,
            PRIMARY KEY (dataset_id, item_uid)
        );

        CREATE TABLE annotators (
            id           INTEGER PRIMARY KEY DEFAULT nextval('annotator_ids'),
            name         VARCHAR NOT NULL UNIQUE,
            email        VARCHAR,
            created_at   TIMESTAMP NOT NULL DEFAULT current_timestamp
        );

        -- Versioned grading criteria: anchors maps "1".."5" to the description of that score.
        CREATE TABLE rubrics (
            id             INTEGER PRIMARY KEY DEFAULT nextval('rubric_ids'),
            name           VARCHAR NOT NULL,
            version        INTEGER NOT NULL,
            criteria       VARCHAR NOT NULL,
            anchors        JSON NOT NULL,
            pass_threshold INTEGER NOT NULL DEFAULT 4,
            created_at     TIMESTAMP NOT NULL DEFAULT current_timestamp,
            UNIQUE (name, version)
        );

        -- Append-only: the latest row per (item, annotator, kind) is the current label.
        -- kind: 'label' (an annotator's grade) or 'adjudication' (the owner's final label for the item).
        CREATE TABLE labels (
            id           BIGINT PRIMARY KEY DEFAULT nextval('label_ids'),
            item_uid     VARCHAR NOT NULL,
            annotator_id INTEGER NOT NULL,
            kind         VARCHAR NOT NULL DEFAULT 'label',
            score        TINYINT CHECK (score BETWEEN 1 AND 5),
            passed       BOOLEAN,
            critique     VARCHAR,
            rubric_id    INTEGER,
            task_id      INTEGER,
            source       VARCHAR NOT NULL DEFAULT 'ui',
            created_at   TIMESTAMP NOT NULL DEFAULT current_timestamp
        );

        -- Append-only: a judge spec's JSON body; the latest version of a name wins.
        CREATE TABLE judge_specs (
            id           INTEGER PRIMARY KEY DEFAULT nextval('spec_ids'),
            name         VARCHAR NOT NULL,
            version      INTEGER NOT NULL,
            body         JSON NOT NULL,
            body_hash    VARCHAR NOT NULL,
            created_at   TIMESTAMP NOT NULL DEFAULT current_timestamp,
            UNIQUE (name, version)
        );

        -- Items marked as few-shot examples for a judge; append-only (active=false retracts a mark).
        CREATE TABLE fewshot_marks (
            id           INTEGER PRIMARY KEY DEFAULT nextval('fewshot_ids'),
            spec_name    VARCHAR NOT NULL,
            item_uid     VARCHAR NOT NULL,
            active       BOOLEAN NOT NULL DEFAULT true,
            created_at   TIMESTAMP NOT NULL DEFAULT current_timestamp
        );

        -- A judge run (or scores imported from elsewhere: source = 'import').
        CREATE TABLE runs (
            id            VARCHAR PRIMARY KEY,
            name          VARCHAR,
            dataset_id    INTEGER NOT NULL,
            spec_id       INTEGER,
            spec_name     VARCHAR,
            model         VARCHAR,
            base_url      VARCHAR,
            params        JSON,
            samples       INTEGER NOT NULL DEFAULT 1,
            version_tag   VARCHAR,
            source        VARCHAR NOT NULL DEFAULT 'judge',
            status        VARCHAR NOT NULL DEFAULT 'pending',
            total_items   INTEGER,
            template_hash VARCHAR,
            code_version  VARCHAR,
            error         VARCHAR,
            created_at    TIMESTAMP NOT NULL DEFAULT current_timestamp,
            started_at    TIMESTAMP,
            finished_at   TIMESTAMP,
            heartbeat_at  TIMESTAMP
        );

        -- One verdict per (run, item, sample). A failed call has error set and score NULL: never a made-up score.
        CREATE TABLE verdicts (
            run_id          VARCHAR NOT NULL,
            item_uid        VARCHAR NOT NULL,
            sample          INTEGER NOT NULL DEFAULT 0,
            score           TINYINT CHECK (score BETWEEN 1 AND 5),
            weighted_score  DOUBLE,
            passed          BOOLEAN,
            reasoning       VARCHAR,
            raw_reply       VARCHAR,
            prompt          VARCHAR,
            model_reported  VARCHAR,
            input_tokens    INTEGER,
            output_tokens   INTEGER,
            latency_ms      DOUBLE,
            cost_usd        DOUBLE,
            cache_key       VARCHAR,
            cached          BOOLEAN NOT NULL DEFAULT false,
            error           VARCHAR,
            created_at      TIMESTAMP NOT NULL DEFAULT current_timestamp,
            PRIMARY KEY (run_id, item_uid, sample)
        );
        CREATE INDEX verdicts_cache_key ON verdicts (cache_key);

        -- User overrides of the built-in price table; the latest row per model wins.
        CREATE TABLE model_prices (
            id                  INTEGER PRIMARY KEY DEFAULT nextval('price_ids'),
            model               VARCHAR NOT NULL,
            input_usd_per_mtok  DOUBLE NOT NULL,
            output_usd_per_mtok DOUBLE NOT NULL,
            created_at          TIMESTAMP NOT NULL DEFAULT current_timestamp
        );

        -- The pinned baseline run per judge spec name; the latest pin wins.
        CREATE TABLE baselines (
            id           INTEGER PRIMARY KEY DEFAULT nextval('baseline_ids'),
            spec_name    VARCHAR NOT NULL,
            run_id       VARCHAR NOT NULL,
            created_at   TIMESTAMP NOT NULL DEFAULT current_timestamp
        );

        -- Team labeling: a task is a fixed, ordered set of items with instructions and an overlap target.
        CREATE TABLE tasks (
            id           INTEGER PRIMARY KEY DEFAULT nextval('task_ids'),
            name         VARCHAR NOT NULL,
            dataset_id   INTEGER NOT NULL,
            rubric_id    INTEGER,
            instructions VARCHAR,
            filter       JSON,
            sample_size  INTEGER,
            seed         INTEGER,
            overlap      INTEGER NOT NULL DEFAULT 1,
            due_date     DATE,
            created_at   TIMESTAMP NOT NULL DEFAULT current_timestamp,
            closed_at    TIMESTAMP
        );

        CREATE TABLE task_items (
            task_id      INTEGER NOT NULL,
            item_uid     VARCHAR NOT NULL,
            position     INTEGER NOT NULL,
            PRIMARY KEY (task_id, item_uid)
        );

        -- A labeling link: only the SHA-256 of its token is stored. annotator_id NULL = an open link.
        CREATE TABLE task_links (
            id           INTEGER PRIMARY KEY DEFAULT nextval('link_ids'),
            task_id      INTEGER NOT NULL,
            annotator_id INTEGER,
            token_hash   VARCHAR NOT NULL UNIQUE,
            created_at   TIMESTAMP NOT NULL DEFAULT current_timestamp,
            expires_at   TIMESTAMP,
            revoked_at   TIMESTAMP
        );
        """,
    ),
    (
        "0002_criteria",
        """
        CREATE SEQUENCE criterion_ids START 1;

        -- What people grade, per dataset name (shared by its versions): a 1-5 score against a versioned rubric
        -- (rubric_name; its pass threshold decides a score's pass/fail) or pass/fail.
        CREATE TABLE criteria (
            id           INTEGER PRIMARY KEY DEFAULT nextval('criterion_ids'),
            dataset_name VARCHAR NOT NULL,
            name         VARCHAR NOT NULL,
            scale        VARCHAR NOT NULL CHECK (scale IN ('1-5', 'pass/fail')),
            rubric_name  VARCHAR,
            position     INTEGER NOT NULL,
            created_at   TIMESTAMP NOT NULL DEFAULT current_timestamp,
            UNIQUE (dataset_name, name)
        );

        -- Every label grades one criterion; the current label is the latest per (item, annotator, criterion,
        -- kind). effective_passed is its pass/fail resolved once, when written, from the rubric version it was
        -- given under (judge.criteria.resolve_pass); `passed` keeps what the person ticked.
        ALTER TABLE labels ADD COLUMN criterion_id INTEGER;
        ALTER TABLE labels ADD COLUMN effective_passed BOOLEAN;

        -- A run records what its numbers depend on when it starts: the exact spec body, the criterion it is
        -- measured on, the pass threshold and the criterion's rubric version. Reports read these, never the
        -- current spec.
        ALTER TABLE runs ADD COLUMN criterion VARCHAR;
        ALTER TABLE runs ADD COLUMN spec_body JSON;
        ALTER TABLE runs ADD COLUMN pass_threshold INTEGER;
        ALTER TABLE runs ADD COLUMN rubric_id INTEGER;

        -- The criteria a labeling task grades (a JSON list of criteria ids, in order).
        ALTER TABLE tasks ADD COLUMN criterion_ids JSON;

        -- Existing stores: one criterion per dataset, named after the rubric its labels used most (else
        -- 'overall'); pass/fail only when every label is a bare pass/fail.
        INSERT INTO criteria (dataset_name, name, scale, rubric_name, position)
        SELECT d.name, coalesce(used.rubric_name, 'overall'),
               CASE WHEN used.labels > 0 AND used.scored = 0 THEN 'pass/fail' ELSE '1-5' END,
               used.rubric_name, 0
        FROM (SELECT DISTINCT name FROM datasets) d
        LEFT JOIN (
            SELECT i.dataset_name, mode(r.name) AS rubric_name, count(l.id) AS labels, count(l.score) AS scored
            FROM labels l JOIN items i ON i.uid = l.item_uid LEFT JOIN rubrics r ON r.id = l.rubric_id
            GROUP BY i.dataset_name
        ) used ON used.dataset_name = d.name;

        UPDATE labels SET
            criterion_id = (SELECT c.id FROM items i JOIN criteria c ON c.dataset_name = i.dataset_name
                            WHERE i.uid = labels.item_uid),
            effective_passed = coalesce(passed, score >= coalesce(
                (SELECT r.pass_threshold FROM rubrics r WHERE r.id = labels.rubric_id), 4));

        -- A run of an unsaved spec whose exact body was saved (before or after) is a run of that version.
        UPDATE runs SET spec_id = (
            SELECT min(s.id) FROM judge_specs s
            WHERE s.name = runs.spec_name AND json(s.body) = json(json_extract(runs.params, '$.spec')))
        WHERE spec_id IS NULL AND json_extract(params, '$.spec') IS NOT NULL;
        UPDATE runs SET spec_body = coalesce(
            json_extract(params, '$.spec'),
            (SELECT s.body FROM judge_specs s WHERE s.id = runs.spec_id),
            (SELECT s.body FROM judge_specs s WHERE s.name = runs.spec_name ORDER BY s.version DESC LIMIT 1));
        UPDATE runs SET
            pass_threshold = coalesce(TRY_CAST(json_extract_string(spec_body, '$.pass_threshold') AS INTEGER), 4),
            criterion = (SELECT c.name FROM datasets d JOIN criteria c ON c.dataset_name = d.name
                         WHERE d.id = runs.dataset_id);

        UPDATE tasks SET criterion_ids = (
            SELECT to_json([c.id]) FROM datasets d JOIN criteria c ON c.dataset_name = d.name
            WHERE d.id = tasks.dataset_id);
        """,
    ),
    (
        "0003_batches",
        """
        -- Prompt caching: input tokens read from the provider's cache and written to it (both are part of
        -- input_tokens), and the provider batch that produced a verdict (NULL: a direct call).
        ALTER TABLE verdicts ADD COLUMN cached_input_tokens INTEGER;
        ALTER TABLE verdicts ADD COLUMN cache_write_tokens INTEGER;
        ALTER TABLE verdicts ADD COLUMN batch_id VARCHAR;

        -- A provider batch of a run. The row (our key and its units) is written BEFORE anything is sent, and
        -- the provider's ids right after they are known, so any process can poll, collect or recover it.
        -- status: submitting -> submitted -> collected | failed; cancel_requested when the user cancelled.
        CREATE TABLE run_batches (
            key              VARCHAR PRIMARY KEY,
            run_id           VARCHAR NOT NULL,
            provider         VARCHAR NOT NULL,
            round            INTEGER NOT NULL,
            requests         INTEGER NOT NULL,
            status           VARCHAR NOT NULL DEFAULT 'submitting',
            batch_id         VARCHAR,
            input_file_id    VARCHAR,
            provider_status  VARCHAR,
            output_file_id   VARCHAR,
            error_file_id    VARCHAR,
            cancel_requested BOOLEAN NOT NULL DEFAULT false,
            error            VARCHAR,
            created_at       TIMESTAMP NOT NULL DEFAULT current_timestamp,
            submitted_at     TIMESTAMP,
            collected_at     TIMESTAMP
        );

        -- One unit of work (item, sample, cache key) inside a batch; custom_id is what the provider echoes.
        -- kind 'judge' or 'repair' (carried: the unreadable first reply and its usage). outcome, once collected:
        -- stored (a verdict was written), retry (expired or a transient error), repair, canceled.
        CREATE TABLE batch_units (
            batch_key    VARCHAR NOT NULL,
            custom_id    VARCHAR NOT NULL,
            run_id       VARCHAR NOT NULL,
            item_uid     VARCHAR NOT NULL,
            sample       INTEGER NOT NULL,
            cache_key    VARCHAR NOT NULL,
            kind         VARCHAR NOT NULL,
            prompt       VARCHAR NOT NULL,
            carried      JSON,
            outcome      VARCHAR,
            reason       VARCHAR,
            PRIMARY KEY (batch_key, custom_id)
        );
        CREATE INDEX batch_units_run ON batch_units (run_id);
        """,
    ),
    (
        "0004_faults",
        """
        -- What a running run is waiting for (a rate limit's Retry-After, say), for the Run page; NULL otherwise.
        ALTER TABLE runs ADD COLUMN notice VARCHAR;
        """,
    ),
    (
        "0006_pairwise",
        """
        CREATE SEQUENCE preference_ids START 1;

        -- A pair: one input, two outputs (A and B, e.g. two app versions or models) to choose between.
        -- uid = hash(dataset name, pair id, input, both outputs, both system names, context, reference).
        CREATE TABLE pairs (
            uid          VARCHAR PRIMARY KEY,
            dataset_name VARCHAR NOT NULL,
            pair_id      VARCHAR NOT NULL,
            input        VARCHAR,
            output_a     VARCHAR NOT NULL,
            output_b     VARCHAR NOT NULL,
            system_a     VARCHAR,
            system_b     VARCHAR,
            context      VARCHAR,
            reference    VARCHAR,
            metadata     JSON,
            position     INTEGER NOT NULL,
            source_file  VARCHAR,
            created_at   TIMESTAMP NOT NULL DEFAULT current_timestamp
        );

        -- Append-only: a person's preference on one criterion of a pair; the latest per (pair, annotator,
        -- criterion) is current. shown_order records which output the person saw first ('ab' or 'ba').
        CREATE TABLE preferences (
            id           BIGINT PRIMARY KEY DEFAULT nextval('preference_ids'),
            pair_uid     VARCHAR NOT NULL,
            annotator_id INTEGER NOT NULL,
            criterion    VARCHAR NOT NULL,
            choice       VARCHAR NOT NULL CHECK (choice IN ('a', 'b', 'tie')),
            shown_order  VARCHAR CHECK (shown_order IN ('ab', 'ba')),
            critique     VARCHAR,
            source       VARCHAR NOT NULL DEFAULT 'ui',
            created_at   TIMESTAMP NOT NULL DEFAULT current_timestamp
        );

        -- A pairwise judge run (or choices imported from elsewhere: source = 'import'), with its spec body.
        CREATE TABLE pairwise_runs (
            id            VARCHAR PRIMARY KEY,
            name          VARCHAR,
            dataset_name  VARCHAR NOT NULL,
            spec_name     VARCHAR,
            spec_body     JSON,
            criterion     VARCHAR NOT NULL,
            model         VARCHAR,
            base_url      VARCHAR,
            orders        JSON NOT NULL,
            source        VARCHAR NOT NULL DEFAULT 'judge',
            status        VARCHAR NOT NULL DEFAULT 'pending',
            total_pairs   INTEGER NOT NULL,
            template_hash VARCHAR,
            code_version  VARCHAR,
            error         VARCHAR,
            created_at    TIMESTAMP NOT NULL DEFAULT current_timestamp,
            finished_at   TIMESTAMP
        );

        -- One reply per (run, pair, shown order). choice is in the pair's terms (a/b/tie), whatever slot the
        -- output was shown in; a failed call has error set and choice NULL.
        CREATE TABLE pairwise_verdicts (
            run_id          VARCHAR NOT NULL,
            pair_uid        VARCHAR NOT NULL,
            shown_order     VARCHAR NOT NULL CHECK (shown_order IN ('ab', 'ba')),
            score           TINYINT CHECK (score BETWEEN 1 AND 5),
            choice          VARCHAR CHECK (choice IN ('a', 'b', 'tie')),
            reasoning       VARCHAR,
            raw_reply       VARCHAR,
            prompt          VARCHAR,
            model_reported  VARCHAR,
            input_tokens    INTEGER,
            output_tokens   INTEGER,
            latency_ms      DOUBLE,
            cost_usd        DOUBLE,
            cache_key       VARCHAR,
            cached          BOOLEAN NOT NULL DEFAULT false,
            error           VARCHAR,
            created_at      TIMESTAMP NOT NULL DEFAULT current_timestamp,
            PRIMARY KEY (run_id, pair_uid, shown_order)
        );
        CREATE INDEX pairwise_verdicts_cache_key ON pairwise_verdicts (cache_key);

        -- Pairwise labeling through links: a task is one pair dataset and criterion; a link's token is stored
        -- only as its SHA-256, like task_links. annotator_id NULL = an open link.
        CREATE SEQUENCE pair_task_ids START 1;
        CREATE SEQUENCE pair_link_ids START 1;
        CREATE TABLE pair_tasks (
            id           INTEGER PRIMARY KEY DEFAULT nextval('pair_task_ids'),
            name         VARCHAR NOT NULL,
            dataset_name VARCHAR NOT NULL,
            criterion    VARCHAR NOT NULL,
            instructions VARCHAR,
            created_at   TIMESTAMP NOT NULL DEFAULT current_timestamp,
            closed_at    TIMESTAMP
        );
        CREATE TABLE pair_links (
            id           INTEGER PRIMARY KEY DEFAULT nextval('pair_link_ids'),
            pair_task_id INTEGER NOT NULL,
            annotator_id INTEGER,
            token_hash   VARCHAR NOT NULL UNIQUE,
            created_at   TIMESTAMP NOT NULL DEFAULT current_timestamp,
            expires_at   TIMESTAMP NOT NULL,
            revoked_at   TIMESTAMP
        );
        """,
    ),
    (
        "0007_label_next",
        """
        -- Labels on items a strategy suggested (judge label-next) record the sampling design they were drawn
        -- under (JSON: strategy, seed, runs, dataset version, criterion) and the item's share of that design's
        -- size measure, so reports weight each by 1 / inclusion probability (judge.label_next). NULL: the item
        -- was not drawn by a design and counts as itself only.
        ALTER TABLE labels ADD COLUMN sample_design VARCHAR;
        ALTER TABLE labels ADD COLUMN sample_share DOUBLE;

        -- A labeling task whose items a strategy chose keeps that design and each item's share, so labels
        -- given through its links record them too, and its links ask for the items in the design's order.
        ALTER TABLE tasks ADD COLUMN sample_design VARCHAR;
        ALTER TABLE task_items ADD COLUMN sample_share DOUBLE;
        """,
    ),
    (
        "0008_funnel",
        """
        -- Each verdict keeps the judge's distribution over its grades (JSON: {"1": p, ..., "5": p} from an
        -- LLM's log-probabilities, or {"fail": p, "pass": p} from a classifier), so a funnel can read how
        -- confident the judge was in its verdict. NULL: the provider gave none.
        ALTER TABLE verdicts ADD COLUMN score_probs VARCHAR;

        CREATE SEQUENCE funnel_ids START 1;
        CREATE SEQUENCE funnel_version_ids START 1;
        CREATE SEQUENCE funnel_run_ids START 1;

        -- A funnel: judge stages over one criterion of a dataset, cheapest first, people last (judge.funnel).
        CREATE TABLE funnels (
            id           INTEGER PRIMARY KEY DEFAULT nextval('funnel_ids'),
            name         VARCHAR NOT NULL UNIQUE,
            dataset_name VARCHAR NOT NULL,
            criterion    VARCHAR NOT NULL,
            created_at   TIMESTAMP NOT NULL DEFAULT current_timestamp
        );
        -- Append-only versions: the stages, and once calibrated the thresholds with alpha, delta and the
        -- calibration and held-out label sets (uids, hashes, sizes) they were chosen and checked on.
        CREATE TABLE funnel_versions (
            id                 INTEGER PRIMARY KEY DEFAULT nextval('funnel_version_ids'),
            funnel_id          INTEGER NOT NULL,
            version            INTEGER NOT NULL,
            stages             JSON NOT NULL,
            target             VARCHAR NOT NULL,
            alpha              DOUBLE,
            delta              DOUBLE,
            calibration        JSON,
            split_seed         INTEGER,
            calibration_share  DOUBLE,
            calibration_uids   JSON,
            heldout_uids       JSON,
            calibration_hash   VARCHAR,
            heldout_hash       VARCHAR,
            dataset_id         INTEGER,
            calibration_run_id INTEGER,
            created_at         TIMESTAMP NOT NULL DEFAULT current_timestamp,
            UNIQUE (funnel_id, version)
        );
        -- One pass of items through a funnel version: a calibration pass or a run over a dataset version.
        CREATE TABLE funnel_runs (
            id                INTEGER PRIMARY KEY DEFAULT nextval('funnel_run_ids'),
            funnel_version_id INTEGER NOT NULL,
            dataset_id        INTEGER NOT NULL,
            purpose           VARCHAR NOT NULL,
            item_uids         JSON,
            status            VARCHAR NOT NULL,
            task_id           INTEGER,
            error             VARCHAR,
            created_at        TIMESTAMP NOT NULL DEFAULT current_timestamp,
            finished_at       TIMESTAMP
        );
        -- The judge run behind each stage of a funnel run ('stage'), and the strongest judge run alone on the
        -- held-out items for comparison ('alone').
        CREATE TABLE funnel_stage_runs (
            funnel_run_id INTEGER NOT NULL,
            stage         INTEGER NOT NULL,
            role          VARCHAR NOT NULL,
            run_id        VARCHAR NOT NULL,
            PRIMARY KEY (funnel_run_id, stage, role)
        );
        -- What each stage said about each item that reached it, and whether that settled the item. An item
        -- no stage settled goes to people. error set: the stage's calls failed (no verdict, no confidence).
        CREATE TABLE funnel_steps (
            funnel_run_id INTEGER NOT NULL,
            stage         INTEGER NOT NULL,
            item_uid      VARCHAR NOT NULL,
            confidence    DOUBLE,
            passed        BOOLEAN,
            score         TINYINT,
            error         VARCHAR,
            settled       BOOLEAN NOT NULL,
            PRIMARY KEY (funnel_run_id, stage, item_uid)
        );
        """,
    ),
    (
        "0009_pairwise_batch",
        """
        -- A pairwise run through the provider's batch API: its settings (JSON: batch_retry, poll_seconds);
        -- NULL = direct calls. Its batches and their units are rows of run_batches / batch_units like a run's
        -- (unit item_uid = '<pair uid>|<shown order>'), and each reply a batch returned names its batch.
        ALTER TABLE pairwise_runs ADD COLUMN batch JSON;
        ALTER TABLE pairwise_verdicts ADD COLUMN batch_id VARCHAR;
        """,
    ),
]
