//! The set of providers a stack can use, and the resource types each serves.

use std::collections::HashMap;
use std::sync::Arc;

use omniform_core::ResourceSchema;
use omniform_provider::Provider;

/// Providers by the resource types they serve.
#[derive(Debug, Clone, Default)]
pub struct ProviderSet {
    providers: Vec<Arc<dyn Provider>>,
    by_type: HashMap<String, (usize, usize)>,
}

impl ProviderSet {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a provider; its types replace any earlier provider's types of the same name.
    pub fn with(mut self, provider: Arc<dyn Provider>) -> Self {
        self.add(provider);
        self
    }

    pub fn add(&mut self, provider: Arc<dyn Provider>) {
        let index = self.providers.len();
        for (i, schema) in provider.schemas().iter().enumerate() {
            self.by_type.insert(schema.type_name.clone(), (index, i));
        }
        self.providers.push(provider);
    }

    /// The provider and schema of a resource type.
    pub fn get(&self, type_name: &str) -> Option<(&Arc<dyn Provider>, &ResourceSchema)> {
        let (p, s) = *self.by_type.get(type_name)?;
        let provider = &self.providers[p];
        Some((provider, &provider.schemas()[s]))
    }

    pub fn schema(&self, type_name: &str) -> Option<&ResourceSchema> {
        self.get(type_name).map(|(_, s)| s)
    }

    /// The provider with this name, as in `[provider.<name>]`.
    pub fn by_name(&self, name: &str) -> Option<&Arc<dyn Provider>> {
        self.providers.iter().find(|p| p.name() == name)
    }

    pub fn providers(&self) -> &[Arc<dyn Provider>] {
        &self.providers
    }

    /// Every resource type served, sorted.
    pub fn type_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.by_type.keys().map(String::as_str).collect();
        names.sort();
        names
    }
}
