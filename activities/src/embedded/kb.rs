//! The knowledge-base port over the embedded tantivy index ([`crate::kb`]).

use async_trait::async_trait;

use crate::kb::{KbError, KnowledgeBase as Index, Language};
use crate::ports::{KnowledgeBase, Passage, Port, PortError, PortResult};

/// The embedded knowledge base.
#[derive(Debug)]
pub struct EmbeddedKb {
    index: Index,
}

fn err(e: KbError) -> PortError {
    PortError::Unavailable {
        port: Port::KnowledgeBase,
        message: e.to_string(),
    }
}

impl EmbeddedKb {
    /// Over an index.
    pub fn new(index: Index) -> EmbeddedKb {
        EmbeddedKb { index }
    }

    /// Over the demo knowledge base (`activities/kb/demo`), indexed in memory.
    pub fn demo() -> PortResult<EmbeddedKb> {
        Ok(EmbeddedKb::new(Index::demo().map_err(err)?))
    }
}

#[async_trait]
impl KnowledgeBase for EmbeddedKb {
    async fn search(&self, query: &str, language: &str, k: usize) -> PortResult<Vec<Passage>> {
        self.search_on_topic(query, "", 0.0, language, k).await
    }

    async fn search_on_topic(
        &self,
        query: &str,
        topic: &str,
        topic_weight: f32,
        language: &str,
        k: usize,
    ) -> PortResult<Vec<Passage>> {
        // A language the index does not know is searched as English (the index falls back to
        // every language when nothing matches).
        let lang = Language::from_tag(language).unwrap_or(Language::En);
        let topic: Vec<(&str, f32)> = if topic.is_empty() || topic_weight <= 0.0 {
            Vec::new()
        } else {
            vec![(topic, topic_weight)]
        };
        let hits = self
            .index
            .search_on_topic(&[(query, 1.0)], &topic, lang, k)
            .map_err(err)?;
        Ok(hits
            .into_iter()
            .map(|h| Passage {
                id: h.passage_id,
                title: h.title,
                text: h.snippet,
                language: h.language.as_str().to_owned(),
                score: f64::from(h.score),
            })
            .collect())
    }

    async fn passage(&self, id: &str) -> PortResult<Option<Passage>> {
        Ok(self.index.passage(id).map_err(err)?.map(|p| Passage {
            id: p.id,
            title: p.title,
            text: p.text,
            language: p.language.as_str().to_owned(),
            score: 0.0,
        }))
    }
}
