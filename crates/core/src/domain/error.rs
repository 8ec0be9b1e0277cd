use thiserror::Error;

/// A broken business rule. `code` is stable English for clients; `Display`
/// is the Spanish text shown to customers.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DomainError {
    #[error("Hora llena por capacidad")]
    SlotFull,
    #[error("La hora {0} está fuera de la ventana de reportes ({1})")]
    OutsideWindow(String, String),
    #[error("Ya tienes una reserva; cámbiala o cancélala")]
    AlreadyReserved,
    #[error("No hay ninguna hora con capacidad disponible para tu tamaño")]
    NoSlotAvailable,
    #[error("El estimado de órdenes mensuales debe ser un número entero mayor o igual a 0")]
    InvalidMonthlyOrders,
    #[error("La hora debe estar entre 0 y 23")]
    InvalidHour,
    #[error("Ventana de horas inválida: el inicio debe ser menor que el fin y ambos entre 0 y 24")]
    InvalidWindow,
}

impl DomainError {
    pub fn code(&self) -> &'static str {
        match self {
            DomainError::SlotFull => "slot_full",
            DomainError::OutsideWindow(..) => "outside_window",
            DomainError::AlreadyReserved => "already_reserved",
            DomainError::NoSlotAvailable => "no_slot_available",
            DomainError::InvalidMonthlyOrders => "invalid_monthly_orders",
            DomainError::InvalidHour => "invalid_hour",
            DomainError::InvalidWindow => "invalid_window",
        }
    }
}
