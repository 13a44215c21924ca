-- 010: the language each user reads the page in, chosen on the page.
-- Empty means the browser's Accept-Language decides.
ALTER TABLE users ADD COLUMN lang TEXT NOT NULL DEFAULT '' CHECK (lang IN ('', 'en', 'pt-BR'));
