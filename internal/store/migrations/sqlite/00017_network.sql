-- +goose Up
-- The service network and the public site's articles (issue 13, items 4–5).

-- A service is a place or line that helps: a hospital, a community health
-- centre, a counselling room, an NGO, vocational training, a hotline, a
-- volunteer group or a partner organisation. Texts are kept in the
-- district's language (name, address, hours, offers) with an optional
-- English version beside each (*_en), shown on English pages.
-- org_unit_id is set when the institution is itself an org unit (a
-- community health centre that is a unit of the tree). org_path is the
-- deepest unit that holds every unit it serves (and org_unit_id): the
-- jurisdiction that manages it, "/" for one that serves no unit (a
-- national hotline), which only a system administrator edits.
CREATE TABLE services (
    id            INTEGER PRIMARY KEY,
    name          TEXT    NOT NULL,
    name_en       TEXT    NOT NULL DEFAULT '',
    kind          TEXT    NOT NULL,
    address       TEXT    NOT NULL DEFAULT '',
    address_en    TEXT    NOT NULL DEFAULT '',
    phone         TEXT    NOT NULL,
    hours         TEXT    NOT NULL DEFAULT '',
    hours_en      TEXT    NOT NULL DEFAULT '',
    capacity      INTEGER NOT NULL DEFAULT 0 CHECK (capacity >= 0),
    offers        TEXT    NOT NULL DEFAULT '',
    offers_en     TEXT    NOT NULL DEFAULT '',
    contact_name  TEXT    NOT NULL DEFAULT '',
    contact_phone TEXT    NOT NULL DEFAULT '',
    org_unit_id   INTEGER REFERENCES org_units (id),
    org_path      TEXT    NOT NULL,
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL
);
-- Staff lists: the services of a jurisdiction, by name.
CREATE INDEX services_path ON services (org_path, name, id);
CREATE INDEX services_name ON services (name, id);

-- The org units a service serves. A resident of a community is shown the
-- services of the community, its street and its district.
CREATE TABLE service_units (
    service_id  INTEGER NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    unit_id     INTEGER NOT NULL REFERENCES org_units (id),
    PRIMARY KEY (service_id, unit_id)
);
CREATE INDEX service_units_unit ON service_units (unit_id, service_id);

-- Articles of the public site, written in Markdown by staff with the
-- editor right (see care.WriteArticle) and published per language. The
-- Markdown is stored as written and rendered safely when shown. org_path
-- is the author's unit: editors change the articles of their jurisdiction.
CREATE TABLE articles (
    id            INTEGER PRIMARY KEY,
    slug          TEXT    NOT NULL UNIQUE,
    title         TEXT    NOT NULL,
    lang          TEXT    NOT NULL CHECK (lang IN ('zh-Hans', 'en')),
    body_markdown TEXT    NOT NULL,
    published     INTEGER NOT NULL DEFAULT 0,
    published_at  TEXT,
    org_path      TEXT    NOT NULL,
    author        TEXT    NOT NULL,
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL
);
-- The public list: the published articles of one language, newest first.
CREATE INDEX articles_public ON articles (lang, published, published_at, id);
-- Staff lists: the articles of a jurisdiction, newest first.
CREATE INDEX articles_path ON articles (org_path, updated_at, id);

-- +goose Down
DROP TABLE articles;
DROP TABLE service_units;
DROP TABLE services;
