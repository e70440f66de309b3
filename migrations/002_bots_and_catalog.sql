-- Bots and what hangs off them: features, images (S3 object keys), products, scoring rules.
-- Everything a bot owns goes with it (ON DELETE CASCADE), as the seeds ask.

CREATE TABLE bots (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  name text NOT NULL CONSTRAINT bots_name_length CHECK (length(name) BETWEEN 1 AND 200),
  phone_e164 text CONSTRAINT bots_phone_e164_format CHECK (phone_e164 ~ '^\+[1-9]\d{1,14}$'),
  -- A setting of the bot, not a literal in a trigger (the seeds had 70 in one place and 50 in another).
  qualification_threshold integer NOT NULL DEFAULT 70
    CONSTRAINT bots_qualification_threshold_range CHECK (qualification_threshold BETWEEN 0 AND 1000),
  status text NOT NULL DEFAULT 'active' CONSTRAINT bots_status_valid CHECK (status IN ('active', 'paused', 'archived')),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT bots_tenant_id_unique UNIQUE (tenant_id, id)
);
CREATE TRIGGER bots_touch BEFORE UPDATE ON bots FOR EACH ROW EXECUTE FUNCTION touch_updated_at();

CREATE TABLE bot_features (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL,
  bot_id uuid NOT NULL,
  feature text NOT NULL CONSTRAINT bot_features_feature_format CHECK (feature ~ '^[a-z][a-z0-9_]{0,62}$'),
  enabled boolean NOT NULL DEFAULT true,
  config jsonb NOT NULL DEFAULT '{}' CONSTRAINT bot_features_config_object CHECK (jsonb_typeof(config) = 'object'),
  CONSTRAINT bot_features_bot_fk FOREIGN KEY (tenant_id, bot_id) REFERENCES bots (tenant_id, id) ON DELETE CASCADE,
  CONSTRAINT bot_features_bot_feature_unique UNIQUE (tenant_id, bot_id, feature)
);

CREATE TABLE bot_images (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL,
  bot_id uuid NOT NULL,
  -- Key inside the platform bucket, never a URL: no leading slash, no "..".
  object_key text NOT NULL
    CONSTRAINT bot_images_object_key_format CHECK (length(object_key) BETWEEN 1 AND 1024 AND object_key !~ '(^/|\.\.)'),
  content_type text NOT NULL
    CONSTRAINT bot_images_content_type_valid CHECK (content_type IN ('image/jpeg', 'image/png', 'image/webp', 'image/gif')),
  size_bytes bigint NOT NULL CONSTRAINT bot_images_size_range CHECK (size_bytes BETWEEN 1 AND 10485760),
  keywords text[] NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT bot_images_bot_fk FOREIGN KEY (tenant_id, bot_id) REFERENCES bots (tenant_id, id) ON DELETE CASCADE,
  CONSTRAINT bot_images_tenant_id_unique UNIQUE (tenant_id, id),
  CONSTRAINT bot_images_object_key_unique UNIQUE (tenant_id, object_key)
);

CREATE TABLE products (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL,
  bot_id uuid NOT NULL,
  sku text NOT NULL CONSTRAINT products_sku_format CHECK (sku ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
  name text NOT NULL CONSTRAINT products_name_length CHECK (length(name) BETWEEN 1 AND 200),
  description text CONSTRAINT products_description_length CHECK (length(description) <= 5000),
  price numeric(12, 2) NOT NULL CONSTRAINT products_price_non_negative CHECK (price >= 0),
  currency text NOT NULL DEFAULT 'BRL' CONSTRAINT products_currency_format CHECK (currency ~ '^[A-Z]{3}$'),
  image_id uuid,
  active boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT products_bot_fk FOREIGN KEY (tenant_id, bot_id) REFERENCES bots (tenant_id, id) ON DELETE CASCADE,
  -- Deleting an image leaves the product without a picture (only image_id is cleared).
  CONSTRAINT products_image_fk FOREIGN KEY (tenant_id, image_id) REFERENCES bot_images (tenant_id, id) ON DELETE SET NULL (image_id),
  CONSTRAINT products_sku_unique UNIQUE (tenant_id, bot_id, sku)
);
CREATE TRIGGER products_touch BEFORE UPDATE ON products FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
CREATE INDEX products_image_idx ON products (tenant_id, image_id) WHERE image_id IS NOT NULL;

CREATE TABLE scoring_rules (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL,
  bot_id uuid NOT NULL,
  kind text NOT NULL CONSTRAINT scoring_rules_kind_valid CHECK (kind IN ('keyword', 'phrase', 'regex')),
  pattern text NOT NULL CONSTRAINT scoring_rules_pattern_length CHECK (length(pattern) BETWEEN 1 AND 500),
  weight integer NOT NULL CONSTRAINT scoring_rules_weight_range CHECK (weight BETWEEN -1000 AND 1000),
  tag text CONSTRAINT scoring_rules_tag_format CHECK (tag ~ '^[a-z0-9][a-z0-9_-]{0,49}$'),
  active boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT scoring_rules_bot_fk FOREIGN KEY (tenant_id, bot_id) REFERENCES bots (tenant_id, id) ON DELETE CASCADE
);
CREATE TRIGGER scoring_rules_touch BEFORE UPDATE ON scoring_rules FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
CREATE INDEX scoring_rules_bot_idx ON scoring_rules (tenant_id, bot_id) WHERE active;
