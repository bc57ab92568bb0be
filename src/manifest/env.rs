//! `environment = { KEY = "value" }`: the variables of a table as a list, in the order they
//! are written, so that a service's own variables move into the model as they are.

use std::fmt;
use std::hash::BuildHasher as _;

use hashbrown::{DefaultHashBuilder, HashTable};
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};

/// Up to this many variables, a repeated key is looked for by comparing.
const LINEAR: usize = 8;

/// An `environment` table: its variables in the order written, each key once (a repeated
/// key replaces the value in the first one's place, as a map does).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnvTable(pub Vec<(String, String)>);

impl<'de> Deserialize<'de> for EnvTable {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(EnvVisitor)
    }
}

struct EnvVisitor;

impl<'de> Visitor<'de> for EnvVisitor {
    type Value = EnvTable;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map") // as `IndexMap`'s, which this replaces
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<EnvTable, A::Error> {
        let mut vars: Vec<(String, String)> =
            Vec::with_capacity(map.size_hint().unwrap_or(0).min(64));
        let hasher = DefaultHashBuilder::default();
        let mut index: Option<HashTable<usize>> = None;
        let hash = |k: &str| hasher.hash_one(k);
        while let Some((k, v)) = map.next_entry::<String, String>()? {
            let found = match &index {
                Some(t) => t.find(hash(&k), |&i| vars[i].0 == k).copied(),
                None => vars.iter().position(|(other, _)| *other == k),
            };
            if let Some(i) = found {
                vars[i].1 = v;
                continue;
            }
            if let Some(t) = &mut index {
                t.insert_unique(hash(&k), vars.len(), |&i| hash(&vars[i].0));
            }
            vars.push((k, v));
            if index.is_none() && vars.len() > LINEAR {
                let mut t = HashTable::with_capacity(vars.len());
                for (i, (k, _)) in vars.iter().enumerate() {
                    t.insert_unique(hash(k), i, |&j| hash(&vars[j].0));
                }
                index = Some(t);
            }
        }
        // the reader gives no size hint: the grown vector is trimmed, as the model keeps it
        vars.shrink_to_fit();
        Ok(EnvTable(vars))
    }
}

#[cfg(test)]
mod tests {
    use super::EnvTable;

    #[test]
    fn keeps_the_written_order_and_a_repeated_key_in_its_first_place() {
        let pairs = |n: usize| -> Vec<(String, String)> {
            (0..n)
                .map(|i| (format!("K{}", n - i), i.to_string()))
                .chain([("K1".to_owned(), "again".to_owned())])
                .collect()
        };
        for n in [3, 40] {
            let de = serde::de::value::MapDeserializer::<_, serde::de::value::Error>::new(
                pairs(n).into_iter(),
            );
            let EnvTable(vars) = serde::Deserialize::deserialize(de).unwrap_or_default();
            assert_eq!(vars.len(), n);
            assert_eq!(vars[0].0, format!("K{n}"));
            assert_eq!(vars[n - 1], ("K1".to_owned(), "again".to_owned()));
        }
    }
}
