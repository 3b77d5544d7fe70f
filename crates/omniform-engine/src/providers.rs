//! The set of providers a stack can use, and the resource types each serves.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use omniform_core::{Diagnostic, Diagnostics, ResourceSchema, Value};
use omniform_provider::{ConfigureRequest, Provider};
use omniform_stack::{InstanceScope, Stack, eval};

use crate::plan::Values;

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

impl ProviderSet {
    /// Configures the providers that serve `types`, with the settings of their
    /// `[provider.<name>]` blocks (variables resolved). Providers nothing needs are left
    /// alone, so a plan against empty state needs no credentials.
    pub async fn configure<'a>(
        &self,
        stack: &Stack,
        vars: &BTreeMap<String, Value>,
        types: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), Diagnostics> {
        let mut needed = BTreeSet::new();
        for t in types {
            if let Some((p, _)) = self.by_type.get(t) {
                needed.insert(*p);
            }
        }
        let values = Values {
            vars,
            blocks: HashMap::new(),
        };
        let mut diags = Diagnostics::new();
        for index in needed {
            let provider = &self.providers[index];
            let block = stack.providers.get(provider.name());
            let mut settings = BTreeMap::new();
            if let Some(block) = block {
                for (key, (_, expr)) in &block.settings {
                    match eval(expr, &values, &InstanceScope::default()) {
                        Ok(v) => {
                            settings.insert(key.clone(), v.unmarked());
                        }
                        Err(e) => diags.push(
                            Diagnostic::error(e.message)
                                .with_location(stack.locate(e.span))
                                .with_address(format!("provider.{}", provider.name()))
                                .with_hint(e.hint),
                        ),
                    }
                }
            }
            if diags.has_errors() {
                continue;
            }
            if let Err(e) = provider
                .configure(ConfigureRequest {
                    settings: Value::Map(settings),
                })
                .await
            {
                diags.push(
                    Diagnostic::error(e.message)
                        .with_location(block.and_then(|b| stack.locate(b.span)))
                        .with_address(format!("provider.{}", provider.name()))
                        .with_hint(format!(
                            "check the [provider.{}] settings and the credentials; nothing was changed",
                            provider.name()
                        )),
                );
            }
        }
        diags.into_result(())
    }
}
