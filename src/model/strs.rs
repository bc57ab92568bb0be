//! Lists of strings held in one allocation: a service's argv and environment.
//!
//! A `Vec<String>` of five arguments is six allocations (a slice of 24-byte strings, then
//! each string, 32 bytes at least); held for every service of a big stack, they were most of
//! its model. A [`Strs`] is one text in which each string is followed by a NUL. The model
//! refuses a NUL in any value it passes on (`check::char_problem`), so a list of a model that
//! was accepted reads back as it was given; one that holds a NUL is only ever part of a
//! model that is refused.

use std::fmt;

/// A list of strings in one allocation (each followed by a NUL).
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Strs(Box<str>);

/// The strings of a [`Strs`], in order.
#[derive(Clone, Debug)]
pub struct Iter<'a>(&'a str);

impl<'a> Iterator for Iter<'a> {
    type Item = &'a str;
    fn next(&mut self) -> Option<&'a str> {
        let end = memchr::memchr(0, self.0.as_bytes())?;
        let (item, rest) = self.0.split_at(end);
        self.0 = &rest[1..];
        Some(item)
    }
}

impl Strs {
    /// The strings, in order.
    #[must_use]
    pub fn iter(&self) -> Iter<'_> {
        Iter(&self.0)
    }

    /// How many strings (one count over the text).
    #[must_use]
    pub fn len(&self) -> usize {
        memchr::memchr_iter(0, self.0.as_bytes()).count()
    }

    /// Whether there is no string.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The first string.
    #[must_use]
    pub fn first(&self) -> Option<&str> {
        self.iter().next()
    }

    /// The strings as owned values.
    #[must_use]
    pub fn to_vec(&self) -> Vec<String> {
        self.iter().map(str::to_owned).collect()
    }

    /// The bytes of every string together (without their terminators).
    #[must_use]
    pub fn text_len(&self) -> usize {
        self.0.len() - self.len()
    }
}

impl<S: AsRef<str>> From<&[S]> for Strs {
    /// The list, in one allocation of exactly its size.
    fn from(list: &[S]) -> Self {
        let mut text = String::with_capacity(list.iter().map(|s| s.as_ref().len() + 1).sum());
        for s in list {
            text.push_str(s.as_ref());
            text.push('\0');
        }
        Self(text.into_boxed_str())
    }
}

impl<S: AsRef<str>> FromIterator<S> for Strs {
    fn from_iter<I: IntoIterator<Item = S>>(items: I) -> Self {
        let mut text = String::new();
        for s in items {
            text.push_str(s.as_ref());
            text.push('\0');
        }
        Self(text.into_boxed_str())
    }
}

impl<'a> IntoIterator for &'a Strs {
    type Item = &'a str;
    type IntoIter = Iter<'a>;
    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl fmt::Debug for Strs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// `KEY`, value pairs in one allocation (an environment, in order).
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Pairs(Strs);

/// The pairs of a [`Pairs`], in order.
#[derive(Clone)]
pub struct PairIter<'a>(Iter<'a>);

impl<'a> Iterator for PairIter<'a> {
    type Item = (&'a str, &'a str);
    fn next(&mut self) -> Option<Self::Item> {
        Some((self.0.next()?, self.0.next()?))
    }
}

impl Pairs {
    /// The pairs, in order.
    #[must_use]
    pub fn iter(&self) -> PairIter<'_> {
        PairIter(self.0.iter())
    }

    /// How many pairs.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len() / 2
    }

    /// Whether there is no pair.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The bytes of every key and value together.
    #[must_use]
    pub fn text_len(&self) -> usize {
        self.0.text_len()
    }

    /// The pairs as owned values.
    #[must_use]
    pub fn to_vec(&self) -> Vec<(String, String)> {
        self.iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }
}

impl<K: AsRef<str>, V: AsRef<str>> From<&[(K, V)]> for Pairs {
    /// The pairs, in one allocation of exactly their size.
    fn from(list: &[(K, V)]) -> Self {
        let size = list
            .iter()
            .map(|(k, v)| k.as_ref().len() + v.as_ref().len() + 2);
        let mut text = String::with_capacity(size.sum());
        for (k, v) in list {
            text.push_str(k.as_ref());
            text.push('\0');
            text.push_str(v.as_ref());
            text.push('\0');
        }
        Self(Strs(text.into_boxed_str()))
    }
}

impl<K: AsRef<str>, V: AsRef<str>> FromIterator<(K, V)> for Pairs {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(items: I) -> Self {
        let mut text = String::new();
        for (k, v) in items {
            text.push_str(k.as_ref());
            text.push('\0');
            text.push_str(v.as_ref());
            text.push('\0');
        }
        Self(Strs(text.into_boxed_str()))
    }
}

impl<'a> IntoIterator for &'a Pairs {
    type Item = (&'a str, &'a str);
    type IntoIter = PairIter<'a>;
    fn into_iter(self) -> PairIter<'a> {
        self.iter()
    }
}

impl fmt::Debug for Pairs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::{Pairs, Strs};

    #[test]
    fn a_list_reads_back_as_given_empty_strings_included() {
        for list in [
            &[][..],
            &[""][..],
            &["", ""][..],
            &["/bin/x", "", "a b", "é"][..],
        ] {
            let s: Strs = list.iter().collect();
            assert_eq!(s, Strs::from(list));
            assert_eq!(s.iter().collect::<Vec<_>>(), list);
            assert_eq!(s.len(), list.len());
            assert_eq!(s.is_empty(), list.is_empty());
            assert_eq!(s.first(), list.first().copied());
            assert_eq!(s.text_len(), list.iter().map(|a| a.len()).sum::<usize>());
            assert_eq!(format!("{s:?}"), format!("{list:?}"));
        }
    }

    #[test]
    fn pairs_read_back_as_given() {
        let list = [("A", ""), ("", "v"), ("K", "x=y")];
        let p: Pairs = list.iter().copied().collect();
        assert_eq!(p, Pairs::from(&list[..]));
        assert_eq!(p.iter().collect::<Vec<_>>(), list);
        assert_eq!(p.len(), 3);
        assert!(!p.is_empty());
        assert!(Pairs::default().is_empty());
        assert_eq!(Pairs::default().iter().count(), 0);
    }
}
