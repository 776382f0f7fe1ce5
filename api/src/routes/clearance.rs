//! Clearance for what is derived from data: monitors, their jobs and alerts, and reports show
//! (or act on) the data of the datasets they judge, so they need the caller's clearance for
//! every one of those datasets, not only a project role.

use std::collections::HashMap;

use verity_monitor::masking::{ColumnMasks, Masker};
use verity_policy::Action;
use verity_store::model::Dataset;
use verity_store::{Monitor, Report};

use crate::auth::{Caller, Target};
use crate::error::ApiResult;
use crate::state::AppState;

/// The datasets a monitor reads: the monitored one and, when it has a reference version, that
/// version's dataset.
pub(crate) async fn monitor_datasets(
    state: &AppState,
    monitor: &Monitor,
) -> ApiResult<Vec<Dataset>> {
    let names = dataset_names(state, &monitor.dataset, [monitor.reference_version_id]).await?;
    datasets(state, &monitor.project, names).await
}

/// Decides `action` on every dataset a monitor reads ([`authorize_datasets`]).
pub(crate) async fn authorize_monitor(
    state: &AppState,
    caller: &Caller,
    action: Action,
    monitor: &Monitor,
) -> ApiResult<()> {
    let datasets = monitor_datasets(state, monitor).await?;
    authorize_datasets(state, caller, action, &datasets).await
}

/// The names of the datasets whose data a report shows: the judged one and, for drift, the
/// reference's (its histograms and categories are in the report too), and for an evaluation
/// the predictions dataset it wrote.
pub(crate) async fn report_dataset_names(
    state: &AppState,
    report: &Report,
) -> ApiResult<Vec<String>> {
    let linked = [report.reference_version_id, report.models.output_version_id];
    dataset_names(state, &report.dataset, linked).await
}

/// The datasets of [`report_dataset_names`].
pub(crate) async fn report_datasets(state: &AppState, report: &Report) -> ApiResult<Vec<Dataset>> {
    let names = report_dataset_names(state, report).await?;
    datasets(state, &report.project, names).await
}

/// `first` and the datasets of the linked versions, each name once.
async fn dataset_names(
    state: &AppState,
    first: &str,
    linked_versions: impl IntoIterator<Item = Option<i64>>,
) -> ApiResult<Vec<String>> {
    let mut names = vec![first.to_owned()];
    for id in linked_versions.into_iter().flatten() {
        let other = state.get_dataset_version_by_id(id).await?;
        if !names.contains(&other.dataset) {
            names.push(other.dataset);
        }
    }
    Ok(names)
}

/// The datasets of `names` in `project`.
pub(crate) async fn datasets(
    state: &AppState,
    project: &str,
    names: Vec<String>,
) -> ApiResult<Vec<Dataset>> {
    let mut found = Vec::with_capacity(names.len());
    for name in names {
        found.push(state.get_dataset(project, &name).await?);
    }
    Ok(found)
}

/// Decides `action` (one that needs clearance: `dataset.read_data` to make something read the
/// data, `report.read` to see what was derived from it) on every dataset; the first refusal is
/// recorded and answered 403.
pub(crate) async fn authorize_datasets(
    state: &AppState,
    caller: &Caller,
    action: Action,
    datasets: &[Dataset],
) -> ApiResult<()> {
    for dataset in datasets {
        caller
            .authorize(state, action, &Target::dataset(dataset))
            .await?;
    }
    Ok(())
}

/// Whether the caller may see what a monitor produced (its jobs, alerts and reports), asked
/// once per monitor while a list is filtered.
#[derive(Default)]
pub(crate) struct MonitorVisibility {
    seen: HashMap<(String, String), bool>,
}

impl MonitorVisibility {
    /// Whether `caller` has `report.read` on every dataset of the monitor `name` of `project`.
    pub async fn may_see(
        &mut self,
        state: &AppState,
        caller: &Caller,
        project: &str,
        name: &str,
    ) -> ApiResult<bool> {
        let key = (project.to_owned(), name.to_owned());
        if let Some(may) = self.seen.get(&key) {
            return Ok(*may);
        }
        let monitor = state.monitor(project, name).await?;
        let may = may_see_all(state, caller, &monitor_datasets(state, &monitor).await?)?;
        self.seen.insert(key, may);
        Ok(may)
    }

    /// Keeps the items (jobs, alerts) of monitors the caller may see; `monitor_of` names an
    /// item's monitor.
    pub async fn retain<T>(
        &mut self,
        state: &AppState,
        caller: &Caller,
        project: &str,
        items: Vec<T>,
        monitor_of: impl Fn(&T) -> &str,
    ) -> ApiResult<Vec<T>> {
        let mut visible = Vec::with_capacity(items.len());
        for item in items {
            if self
                .may_see(state, caller, project, monitor_of(&item))
                .await?
            {
                visible.push(item);
            }
        }
        Ok(visible)
    }
}

/// Whether `caller` has `report.read` on every one of `datasets` (nothing recorded).
pub(crate) fn may_see_all(
    state: &AppState,
    caller: &Caller,
    datasets: &[Dataset],
) -> ApiResult<bool> {
    for dataset in datasets {
        if !caller.can(state, Action::ReportRead, &Target::dataset(dataset))? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// What a caller sees of the data of one or more datasets.
pub(crate) enum DataView {
    /// Everything: the caller has clearance for every dataset.
    Clear,
    /// The masked view: the caller lacks clearance for some dataset, each of which has
    /// masked or hidden columns (their union, under the project's key).
    Masked(Masker),
}

impl DataView {
    /// Whether values are masked.
    pub fn is_masked(&self) -> bool {
        matches!(self, DataView::Masked(_))
    }
}

/// Adds `more` to `union`; `hidden` wins over `masked`.
pub(crate) fn merge_masks(union: &mut ColumnMasks, more: ColumnMasks) {
    for (column, mode) in more {
        let slot = union.entry(column).or_insert(mode);
        *slot = (*slot).max(mode);
    }
}

/// What `caller` may see of `dataset`'s data for `action` (`dataset.read_data` or
/// `report.read`), nothing recorded: `Some` of no masks in clear; `Some` of the dataset's masks
/// through the masked view, when the only thing missing is clearance and the owner has masked
/// or hidden columns; `None` when refused.
pub(crate) async fn visible_masks(
    state: &AppState,
    caller: &Caller,
    action: Action,
    dataset: &Dataset,
) -> ApiResult<Option<ColumnMasks>> {
    let target = Target::dataset(dataset);
    if caller.can(state, action, &target)? {
        return Ok(Some(ColumnMasks::new()));
    }
    let mut at_own_clearance = target;
    at_own_clearance.sensitivity = caller.effective_clearance();
    if !caller.can(state, action, &at_own_clearance)? {
        return Ok(None);
    }
    let masks = state
        .dataset_masking(&dataset.project, &dataset.name)
        .await?
        .columns;
    Ok((!masks.is_empty()).then_some(masks))
}

/// Decides `action` on every dataset ([`visible_masks`]): in clear, or through the masked
/// view of the union of their masks; a refusal is recorded and answered 403.
pub(crate) async fn data_view(
    state: &AppState,
    caller: &Caller,
    action: Action,
    datasets: &[Dataset],
) -> ApiResult<DataView> {
    let mut union = ColumnMasks::new();
    for dataset in datasets {
        match visible_masks(state, caller, action, dataset).await? {
            Some(masks) => merge_masks(&mut union, masks),
            None => {
                caller
                    .authorize(state, action, &Target::dataset(dataset))
                    .await?
            }
        }
    }
    match datasets.first() {
        Some(first) if !union.is_empty() => Ok(DataView::Masked(Masker::new(
            state.mask_key(&first.project).await?,
            union,
        ))),
        _ => Ok(DataView::Clear),
    }
}
