//! Where an order in flight goes next when the day moves on.

use rand::Rng;

use super::seeding::SimRng;
use crate::model::OrderStatus;

/// The status that follows `status` when the order moves. Always draws one
/// number so each order consumes the same amount of the day's stream.
pub fn next_status(rng: &mut SimRng, status: OrderStatus) -> OrderStatus {
    use OrderStatus::*;
    let roll: f64 = rng.gen();
    match status {
        Pendiente if roll < 0.05 => Cancelado,
        Pendiente => GuiaGenerada,
        GuiaGenerada => EnTransito,
        EnTransito if roll < 0.15 => Novedad,
        EnTransito => EnReparto,
        EnReparto if roll < 0.15 => Novedad,
        EnReparto => Entregado,
        Novedad if roll < 0.4 => Devuelto,
        Novedad => EnReparto,
        terminal @ (Entregado | Devuelto | Cancelado) => terminal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::day_rng;

    #[test]
    fn every_non_terminal_status_eventually_ends() {
        let mut rng = day_rng(3, 1);
        for start in OrderStatus::ALL {
            let mut status = start;
            for _ in 0..200 {
                status = next_status(&mut rng, status);
            }
            assert!(status.is_terminal(), "{start} never ended");
        }
    }
}
