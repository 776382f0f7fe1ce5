//! The single-pass accumulator: one confusion matrix per group.

use std::collections::HashMap;

use super::rates::ConfusionCounts;
use crate::{Error, Result};

/// A group's dense id in one [`FairnessAccumulator`] (from [`FairnessAccumulator::intern`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GroupId(u32);

impl GroupId {
    /// The id as an index (0, 1, 2, … in order of first appearance).
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// Accumulates `(label, prediction, group)` rows into per-group confusion counts.
///
/// A group is the tuple of the values of the sensitive columns named at construction
/// (Fairlearn's `MetricFrame` with several sensitive features). Rows are added in batches, the
/// work per row being one hash look-up per sensitive column (plus one for the tuple when there
/// are several columns), or an array index with [`FairnessAccumulator::push_coded`]. Partial
/// accumulators (one per partition) combine with [`FairnessAccumulator::merge`].
#[derive(Debug, Clone)]
pub struct FairnessAccumulator {
    columns: Vec<String>,
    /// Per sensitive column: value → code.
    dictionaries: Vec<HashMap<String, u32>>,
    /// Per sensitive column: code → value.
    values: Vec<Vec<String>>,
    /// Tuple of column codes → group id.
    tuples: HashMap<Box<[u32]>, u32>,
    /// With one sensitive column: its code → group id (skips the tuple look-up).
    single: Vec<u32>,
    /// Per group id: the tuple of values.
    keys: Vec<Vec<String>>,
    /// Per group id: counts indexed by `label << 1 | prediction`.
    cells: Vec<[u64; 4]>,
    scratch: Vec<u32>,
}

impl FairnessAccumulator {
    /// An accumulator grouping by the given sensitive columns (names are for the report).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when no column is named or a name repeats.
    pub fn new<I, S>(sensitive_columns: I) -> Result<Self>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let columns: Vec<String> = sensitive_columns.into_iter().map(Into::into).collect();
        if columns.is_empty() {
            return Err(Error::invalid(
                "fairness needs at least one sensitive column",
            ));
        }
        for (i, c) in columns.iter().enumerate() {
            if columns[..i].contains(c) {
                return Err(Error::invalid(format!(
                    "sensitive column {c:?} is named twice"
                )));
            }
        }
        Ok(FairnessAccumulator {
            dictionaries: vec![HashMap::new(); columns.len()],
            values: vec![Vec::new(); columns.len()],
            columns,
            tuples: HashMap::new(),
            single: Vec::new(),
            keys: Vec::new(),
            cells: Vec::new(),
            scratch: Vec::new(),
        })
    }

    /// The sensitive columns, in the order group tuples use.
    pub fn sensitive_columns(&self) -> &[String] {
        &self.columns
    }

    /// Rows accumulated so far.
    pub fn row_count(&self) -> u64 {
        self.cells.iter().flatten().sum()
    }

    /// The groups seen (or interned) so far with their counts, in id order.
    pub fn groups(&self) -> impl Iterator<Item = (&[String], ConfusionCounts)> {
        self.keys
            .iter()
            .zip(&self.cells)
            .map(|(k, c)| (k.as_slice(), ConfusionCounts::from_cells(*c)))
    }

    /// The id of a group (one value per sensitive column), registering it if new. For
    /// dictionary-encoded input: intern each dictionary entry once, then
    /// [`push_coded`](Self::push_coded) the keys.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when `key` has the wrong number of values.
    pub fn intern<S: AsRef<str>>(&mut self, key: &[S]) -> Result<GroupId> {
        if key.len() != self.columns.len() {
            return Err(Error::invalid(format!(
                "a group has {} values but there are {} sensitive columns",
                key.len(),
                self.columns.len()
            )));
        }
        let mut codes = std::mem::take(&mut self.scratch);
        codes.clear();
        for (c, value) in key.iter().enumerate() {
            codes.push(self.code(c, value.as_ref()));
        }
        let id = self.group_of(&codes);
        self.scratch = codes;
        Ok(GroupId(id))
    }

    /// Adds one row.
    ///
    /// # Errors
    /// As [`intern`](Self::intern).
    pub fn push<S: AsRef<str>>(&mut self, label: bool, prediction: bool, key: &[S]) -> Result<()> {
        let id = self.intern(key)?;
        self.add(id.0, label, prediction);
        Ok(())
    }

    /// Adds a batch of rows with one sensitive column.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when the slices differ in length or the accumulator has
    /// several sensitive columns (use [`push_batch_multi`](Self::push_batch_multi)); nothing is
    /// added then.
    pub fn push_batch<S: AsRef<str>>(
        &mut self,
        labels: &[bool],
        predictions: &[bool],
        groups: &[S],
    ) -> Result<()> {
        if self.columns.len() != 1 {
            return Err(Error::invalid(format!(
                "push_batch takes one sensitive column but the accumulator has {}",
                self.columns.len()
            )));
        }
        check_lengths(labels.len(), predictions.len(), groups.len())?;
        for ((&label, &prediction), value) in labels.iter().zip(predictions).zip(groups) {
            let code = self.code(0, value.as_ref());
            let id = match self.single.get(code as usize) {
                Some(&id) => id,
                None => self.group_of(&[code]),
            };
            self.add(id, label, prediction);
        }
        Ok(())
    }

    /// Adds a batch of rows; `columns` holds one slice per sensitive column, in order.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when the number of columns is wrong or the slices differ in
    /// length; nothing is added then.
    pub fn push_batch_multi<S: AsRef<str>>(
        &mut self,
        labels: &[bool],
        predictions: &[bool],
        columns: &[&[S]],
    ) -> Result<()> {
        if columns.len() != self.columns.len() {
            return Err(Error::invalid(format!(
                "{} sensitive columns given but the accumulator has {}",
                columns.len(),
                self.columns.len()
            )));
        }
        for column in columns {
            check_lengths(labels.len(), predictions.len(), column.len())?;
        }
        check_lengths(labels.len(), predictions.len(), labels.len())?;
        let mut codes = std::mem::take(&mut self.scratch);
        for row in 0..labels.len() {
            codes.clear();
            for (c, column) in columns.iter().enumerate() {
                codes.push(self.code(c, column[row].as_ref()));
            }
            let id = self.group_of(&codes);
            self.add(id, labels[row], predictions[row]);
        }
        self.scratch = codes;
        Ok(())
    }

    /// Adds a batch of rows whose groups were interned beforehand (fastest path).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when the slices differ in length or an id does not belong to
    /// this accumulator; nothing is added then.
    pub fn push_coded(
        &mut self,
        labels: &[bool],
        predictions: &[bool],
        groups: &[GroupId],
    ) -> Result<()> {
        check_lengths(labels.len(), predictions.len(), groups.len())?;
        if let Some(bad) = groups.iter().find(|g| g.index() >= self.cells.len()) {
            return Err(Error::invalid(format!(
                "group id {} was never interned",
                bad.0
            )));
        }
        for ((&label, &prediction), group) in labels.iter().zip(predictions).zip(groups) {
            self.add(group.0, label, prediction);
        }
        Ok(())
    }

    /// Adds another accumulator's counts (e.g. from another partition).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when the sensitive columns differ.
    pub fn merge(&mut self, other: &FairnessAccumulator) -> Result<()> {
        if other.columns != self.columns {
            return Err(Error::invalid(format!(
                "cannot merge accumulators over {:?} and {:?}",
                self.columns, other.columns
            )));
        }
        for (key, cells) in other.keys.iter().zip(&other.cells) {
            let id = self.intern(key)?;
            let mine = &mut self.cells[id.index()];
            for (m, o) in mine.iter_mut().zip(cells) {
                *m += o;
            }
        }
        Ok(())
    }

    fn code(&mut self, column: usize, value: &str) -> u32 {
        let dictionary = &mut self.dictionaries[column];
        if let Some(&code) = dictionary.get(value) {
            return code;
        }
        let code = dictionary.len() as u32;
        dictionary.insert(value.to_owned(), code);
        self.values[column].push(value.to_owned());
        code
    }

    fn group_of(&mut self, codes: &[u32]) -> u32 {
        if let Some(&id) = self.tuples.get(codes) {
            return id;
        }
        let id = self.keys.len() as u32;
        let key = codes
            .iter()
            .zip(&self.values)
            .map(|(&code, values)| values.get(code as usize).cloned().unwrap_or_default())
            .collect();
        self.keys.push(key);
        self.cells.push([0; 4]);
        self.tuples.insert(codes.into(), id);
        if let [code] = codes {
            // Codes are created one at a time and each gets its group right after.
            if *code as usize == self.single.len() {
                self.single.push(id);
            }
        }
        id
    }

    #[inline]
    fn add(&mut self, id: u32, label: bool, prediction: bool) {
        self.cells[id as usize][(usize::from(label) << 1) | usize::from(prediction)] += 1;
    }
}

fn check_lengths(labels: usize, predictions: usize, groups: usize) -> Result<()> {
    if labels != predictions || labels != groups {
        return Err(Error::invalid(format!(
            "batch lengths differ: {labels} labels, {predictions} predictions, {groups} group values"
        )));
    }
    Ok(())
}
