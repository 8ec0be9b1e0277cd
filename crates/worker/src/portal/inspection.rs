//! What `reporterctl portal check` asks of a portal session beyond the
//! pipeline's calls: the export's header row (to check the profile's
//! columns) together with its orders. Nothing here files a report.

use reporter_core::domain::OrderSnapshot;

/// The export as downloaded, for the portal check.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExportInspection {
    /// The sheet that was read.
    pub sheet: String,
    /// The header row's texts as in the file (not normalized), in order.
    pub headers: Vec<String>,
    /// The export's orders (empty when they could not be parsed).
    pub orders: Vec<OrderSnapshot>,
    /// Why the orders could not be parsed (e.g. a required column missing).
    pub parse_error: Option<String>,
}
