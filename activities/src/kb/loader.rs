//! Reading a folder of Markdown and JSON documents.
//!
//! Markdown (`.md`, `.markdown`): optional front matter between `---` lines with `id`, `title`,
//! `lang` (or `language`) and `tags`; otherwise the title is the first `#` heading and the id
//! is the file's path relative to the folder, without its extension.
//!
//! JSON (`.json`, `.jsonl`): one document object, an array of them, an object holding them under
//! `documents`/`docs`/`articles`/`items`/`data`/`entries`, or one object per line. A document
//! object has its text under `content`, `body`, `text`, `markdown`, `answer` or `description`
//! (a string, a list of paragraphs, or a list of `{heading|title, content|body|text}` sections),
//! and optionally `id`, `title` (or `name`, `question`), `lang` (or `language`, `locale`) and
//! `tags` (or `keywords`, `categories`, `category`, `topic`).
//!
//! A document's language is taken from its metadata, else from a language code in its path
//! (`refunds.zh.md`, `zh/refunds.md`), else detected from its text.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::document::{Document, heading};
use super::error::KbError;
use super::language::Language;

/// The demo knowledge base shipped with the crate (`activities/kb/demo`): shipping, returns,
/// refunds, warranty, payment, account and orders, in en, es, zh, fr and de. The path is the
/// crate's source folder, known at compile time.
pub fn demo_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("kb")
        .join("demo")
}

/// Loads every Markdown and JSON document under `dir` (recursively, hidden entries skipped), in
/// a deterministic order. Other files are ignored. Fails on duplicate document ids.
pub fn load_dir(dir: &Path) -> Result<Vec<Document>, KbError> {
    let mut files = Vec::new();
    collect_files(dir, &mut files)?;
    files.sort();
    let mut docs = Vec::new();
    let mut seen: HashMap<String, PathBuf> = HashMap::new();
    for file in files {
        for doc in load_file(&file, dir)? {
            if let Some(first) = seen.get(&doc.id) {
                return Err(KbError::DuplicateId {
                    id: doc.id,
                    first: first.clone(),
                    second: file,
                });
            }
            seen.insert(doc.id.clone(), file.clone());
            docs.push(doc);
        }
    }
    Ok(docs)
}

/// Loads the documents of one file; `root` is the folder ids are made relative to. Files that
/// are neither Markdown nor JSON yield no documents.
pub fn load_file(path: &Path, root: &Path) -> Result<Vec<Document>, KbError> {
    let Some(kind) = FileKind::of(path) else {
        return Ok(Vec::new());
    };
    let text = fs::read_to_string(path).map_err(|e| KbError::io(path, e))?;
    let default_id = default_id(path, root);
    match kind {
        FileKind::Markdown => Ok(vec![parse_markdown(&text, &default_id, path)]),
        FileKind::Json => {
            let value: Value = serde_json::from_str(&text).map_err(|source| KbError::Json {
                path: path.to_owned(),
                source,
            })?;
            parse_json(&value, &default_id, path)
        }
        FileKind::JsonLines => {
            let mut docs = Vec::new();
            for (n, line) in text
                .lines()
                .enumerate()
                .filter(|(_, l)| !l.trim().is_empty())
            {
                let value: Value = serde_json::from_str(line).map_err(|source| KbError::Json {
                    path: path.to_owned(),
                    source,
                })?;
                let id = format!("{default_id}-{}", n + 1);
                docs.extend(parse_json(&value, &id, path)?);
            }
            Ok(docs)
        }
    }
}

/// Parses a Markdown document with optional front matter.
pub fn parse_markdown(text: &str, default_id: &str, source: &Path) -> Document {
    let (meta, body) = front_matter(text);
    let get = |keys: &[&str]| {
        keys.iter()
            .find_map(|k| meta.iter().find(|(mk, _)| mk == k).map(|(_, v)| v.clone()))
            .filter(|v| !v.is_empty())
    };
    let title = get(&["title"])
        .or_else(|| body.lines().find_map(heading).map(|(_, t)| t.to_owned()))
        .unwrap_or_else(|| default_id.to_owned());
    let tags = get(&["tags", "keywords"])
        .map(|t| split_tags(&t))
        .unwrap_or_default();
    let language = resolve_language(
        get(&["lang", "language", "locale"]).as_deref(),
        source,
        &title,
        body,
    );
    Document {
        id: get(&["id"]).unwrap_or_else(|| default_id.to_owned()),
        title,
        language,
        body: body.trim().to_owned(),
        tags,
        source: source.to_owned(),
    }
}

/// Parses the documents of a JSON value (see the module docs for the accepted shapes).
pub fn parse_json(
    value: &Value,
    default_id: &str,
    source: &Path,
) -> Result<Vec<Document>, KbError> {
    let shape_error = |reason: &str| KbError::Shape {
        path: source.to_owned(),
        reason: reason.to_owned(),
    };
    match value {
        Value::Array(items) => {
            let mut docs = Vec::new();
            for (n, item) in items.iter().enumerate() {
                let Value::Object(object) = item else {
                    return Err(shape_error("expected an array of document objects"));
                };
                let id = format!("{default_id}-{}", n + 1);
                docs.push(json_document(object, &id, source).ok_or_else(|| {
                    shape_error("a document object has no text field (content, body, text…)")
                })?);
            }
            Ok(docs)
        }
        Value::Object(object) => {
            if let Some(doc) = json_document(object, default_id, source) {
                return Ok(vec![doc]);
            }
            let nested = ["documents", "docs", "articles", "items", "data", "entries"]
                .iter()
                .find_map(|k| object.get(*k).filter(|v| v.is_array()));
            match nested {
                Some(list) => parse_json(list, default_id, source),
                None => Err(shape_error(
                    "expected a document object with a text field (content, body, text…) or a list of them",
                )),
            }
        }
        _ => Err(shape_error("expected a json object or array")),
    }
}

/// Reads one JSON document object; `None` when it has no text field.
fn json_document(object: &Map<String, Value>, default_id: &str, source: &Path) -> Option<Document> {
    let field = |keys: &[&str]| {
        keys.iter()
            .find_map(|k| object.get(*k))
            .filter(|v| !v.is_null())
    };
    let body = field(&[
        "content",
        "body",
        "text",
        "markdown",
        "answer",
        "description",
    ])
    .and_then(json_text)?;
    let scalar = |v: &Value| match v {
        Value::String(s) => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    let title = field(&["title", "name", "question", "heading"])
        .and_then(scalar)
        .filter(|t| !t.is_empty())
        .or_else(|| body.lines().find_map(heading).map(|(_, t)| t.to_owned()))
        .unwrap_or_else(|| default_id.to_owned());
    let tags = field(&["tags", "keywords", "categories", "category", "topic"])
        .map(|v| match v {
            Value::Array(items) => items.iter().filter_map(scalar).collect(),
            Value::String(s) => split_tags(s),
            _ => Vec::new(),
        })
        .unwrap_or_default();
    let lang = field(&["lang", "language", "locale"]).and_then(scalar);
    let language = resolve_language(lang.as_deref(), source, &title, &body);
    Some(Document {
        id: field(&["id", "doc_id", "document_id", "_id", "slug"])
            .and_then(scalar)
            .filter(|id| !id.is_empty())
            .unwrap_or_else(|| default_id.to_owned()),
        title,
        language,
        body,
        tags,
        source: source.to_owned(),
    })
}

/// The text of a JSON body field: a string, a list of paragraphs, or a list of sections.
fn json_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.trim().to_owned()),
        Value::Array(items) => {
            let parts: Vec<String> = items
                .iter()
                .filter_map(|item| match item {
                    Value::String(s) => Some(s.trim().to_owned()),
                    Value::Object(section) => {
                        let text = ["content", "body", "text"]
                            .iter()
                            .find_map(|k| section.get(*k))
                            .and_then(json_text)?;
                        let head = ["heading", "title", "name"]
                            .iter()
                            .find_map(|k| section.get(*k).and_then(Value::as_str));
                        Some(match head {
                            Some(h) => format!("## {h}\n\n{text}"),
                            None => text,
                        })
                    }
                    _ => None,
                })
                .collect();
            (!parts.is_empty()).then(|| parts.join("\n\n"))
        }
        _ => None,
    }
}

/// Splits front matter (`---` … `---` at the very top) into `key: value` pairs and the body.
fn front_matter(text: &str) -> (Vec<(String, String)>, &str) {
    let text = text.trim_start_matches('\u{feff}');
    let Some(rest) = text.strip_prefix("---") else {
        return (Vec::new(), text);
    };
    let Some(rest) = rest
        .strip_prefix('\n')
        .or_else(|| rest.strip_prefix("\r\n"))
    else {
        return (Vec::new(), text);
    };
    let mut meta = Vec::new();
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        offset += line.len();
        let trimmed = line.trim();
        if trimmed == "---" || trimmed == "..." {
            return (meta, &rest[offset..]);
        }
        if let Some((key, value)) = trimmed.split_once(':') {
            let value = value.trim().trim_matches(|c| c == '"' || c == '\'');
            meta.push((key.trim().to_lowercase(), value.to_owned()));
        }
    }
    // No closing line: this was not front matter after all.
    (Vec::new(), text)
}

/// Reads `a, b`, `[a, b]` or `["a", "b"]` as a list of tags.
fn split_tags(text: &str) -> Vec<String> {
    text.trim_matches(|c| c == '[' || c == ']')
        .split(',')
        .map(|t| t.trim().trim_matches(|c| c == '"' || c == '\'').to_owned())
        .filter(|t| !t.is_empty())
        .collect()
}

/// Metadata first, then a language code in the path, then detection; English if all fail.
fn resolve_language(tag: Option<&str>, source: &Path, title: &str, body: &str) -> Language {
    tag.and_then(Language::from_tag)
        .or_else(|| language_from_path(source))
        .or_else(|| {
            let sample: String = body.chars().take(2000).collect();
            Language::detect(&format!("{title}\n{sample}"))
        })
        .unwrap_or(Language::En)
}

/// `refunds.zh.md` or `…/zh/refunds.md` → zh.
fn language_from_path(path: &Path) -> Option<Language> {
    let stem = path.file_stem()?.to_str()?;
    let suffix = stem.rsplit_once('.').map(|(_, s)| s);
    let parent = path.parent()?.file_name()?.to_str();
    suffix
        .into_iter()
        .chain(parent)
        .filter(|code| code.len() <= 5)
        .find_map(Language::from_tag)
}

/// The path relative to `root`, without extension, `/`-separated.
fn default_id(path: &Path, root: &Path) -> String {
    let relative = path.strip_prefix(root).unwrap_or(path).with_extension("");
    relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), KbError> {
    let entries = fs::read_dir(dir).map_err(|e| KbError::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| KbError::io(dir, e))?;
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let kind = entry.file_type().map_err(|e| KbError::io(&path, e))?;
        if kind.is_dir() {
            collect_files(&path, out)?;
        } else if FileKind::of(&path).is_some() {
            out.push(path);
        }
    }
    Ok(())
}

/// The document formats the loader reads.
#[derive(Debug, Clone, Copy)]
enum FileKind {
    Markdown,
    Json,
    JsonLines,
}

impl FileKind {
    fn of(path: &Path) -> Option<FileKind> {
        let ext = path.extension()?.to_str()?.to_lowercase();
        match ext.as_str() {
            "md" | "markdown" => Some(FileKind::Markdown),
            "json" => Some(FileKind::Json),
            "jsonl" | "ndjson" => Some(FileKind::JsonLines),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn markdown_front_matter_is_read() {
        let text = "---\nid: refunds-fr\ntitle: \"Remboursements\"\nlang: fr\ntags: [refunds, payment]\n---\n# Ignored heading\n\nTexte.\n";
        let d = parse_markdown(text, "x", Path::new("x.md"));
        assert_eq!(d.id, "refunds-fr");
        assert_eq!(d.title, "Remboursements");
        assert_eq!(d.language, Language::Fr);
        assert_eq!(d.tags, vec!["refunds", "payment"]);
        assert!(d.body.starts_with("# Ignored heading"));
    }

    #[test]
    fn markdown_without_front_matter_uses_heading_file_name_and_detection() {
        let text = "# Envíos\n\nLos pedidos se envían en un plazo de dos días hábiles desde la confirmación del pago.\n";
        let d = parse_markdown(text, "envios", Path::new("kb/envios.md"));
        assert_eq!(d.id, "envios");
        assert_eq!(d.title, "Envíos");
        assert_eq!(d.language, Language::Es);
    }

    #[test]
    fn language_code_in_the_path_is_used() {
        let d = parse_markdown("# Hello\n\nok", "x", Path::new("kb/zh/x.md"));
        assert_eq!(d.language, Language::Zh);
        let d = parse_markdown("# Hello\n\nok", "x", Path::new("kb/x.de.md"));
        assert_eq!(d.language, Language::De);
    }

    #[test]
    fn json_document_shapes() {
        let one = json!({"id": "doc_1", "title": "Internal: Cards", "content": "## A\n\nCards are issued in five days."});
        let d = parse_json(&one, "file", Path::new("a.json")).expect("one document");
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].id, "doc_1");
        assert_eq!(d[0].title, "Internal: Cards");
        assert_eq!(d[0].language, Language::En);

        let list = json!({"documents": [
            {"question": "¿Cuánto tarda un reembolso?", "answer": "Entre cinco y diez días hábiles.", "lang": "es", "tags": "refunds"},
            {"title": "Garantie", "body": ["Deux ans.", "Sur tous les produits."], "language": "fr-FR"}
        ]});
        let d = parse_json(&list, "faq", Path::new("faq.json")).expect("two documents");
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].id, "faq-1");
        assert_eq!(d[0].title, "¿Cuánto tarda un reembolso?");
        assert_eq!(d[0].tags, vec!["refunds"]);
        assert_eq!(d[1].language, Language::Fr);
        assert_eq!(d[1].body, "Deux ans.\n\nSur tous les produits.");

        let sections = json!({"id": 7, "title": "T", "text": [{"heading": "H", "content": "C"}]});
        let d = parse_json(&sections, "s", Path::new("s.json")).expect("sections");
        assert_eq!(d[0].id, "7");
        assert_eq!(d[0].body, "## H\n\nC");

        assert!(parse_json(&json!({"title": "no body"}), "x", Path::new("x.json")).is_err());
        assert!(parse_json(&json!(3), "x", Path::new("x.json")).is_err());
    }
}
