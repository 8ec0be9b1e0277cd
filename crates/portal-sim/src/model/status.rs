//! Order statuses as the portal spells them, and which ones are final.

use serde::{Serialize, Serializer};

/// The statuses this simulator produces. The contract's list is open (an
/// unknown status is non-terminal), but the simulator only needs these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderStatus {
    Pendiente,
    GuiaGenerada,
    EnTransito,
    EnReparto,
    Novedad,
    Entregado,
    Devuelto,
    Cancelado,
}

impl OrderStatus {
    #[cfg(test)]
    pub const ALL: [OrderStatus; 8] = [
        Self::Pendiente,
        Self::GuiaGenerada,
        Self::EnTransito,
        Self::EnReparto,
        Self::Novedad,
        Self::Entregado,
        Self::Devuelto,
        Self::Cancelado,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pendiente => "PENDIENTE",
            Self::GuiaGenerada => "GUIA_GENERADA",
            Self::EnTransito => "EN_TRANSITO",
            Self::EnReparto => "EN_REPARTO",
            Self::Novedad => "NOVEDAD",
            Self::Entregado => "ENTREGADO",
            Self::Devuelto => "DEVUELTO",
            Self::Cancelado => "CANCELADO",
        }
    }

    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Entregado | Self::Devuelto | Self::Cancelado)
    }

    /// Whether an order in this status has been handed to a carrier.
    pub fn has_shipment(self) -> bool {
        !matches!(self, Self::Pendiente | Self::Cancelado)
    }
}

impl std::fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for OrderStatus {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exactly_three_statuses_are_terminal() {
        let terminal: Vec<_> = OrderStatus::ALL
            .iter()
            .filter(|s| s.is_terminal())
            .map(|s| s.as_str())
            .collect();
        assert_eq!(terminal, ["ENTREGADO", "DEVUELTO", "CANCELADO"]);
    }
}
