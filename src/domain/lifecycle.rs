//! The dossier lifecycle as an explicit state machine over the ten statuses (domain.md §3): each
//! action, the statuses it may be taken from, the status it leads to, and who may take it. The
//! workspace, the citizen's pages and the payment gateway all go through `transition`; an
//! illegal move is an error that says why.

use serde::Serialize;

use super::status::Status;

/// Something that moves a dossier. Stored by name in `dossier_events.action`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Action {
    /// Complete and valid: the receipt slip is issued and the clock runs (1 → 2).
    Accept,
    /// Refused at receipt, with the reason (1 → 3).
    Refuse,
    /// Processing starts (2 → 4).
    Start,
    /// Every missing item at once; the clock pauses (1, 2, 4 → 5).
    RequestSupplement,
    /// The citizen sends what was asked; the clock restarts (5 → 4).
    Supplement,
    /// A fee or charge is due before processing goes on (4 → 6).
    RequestPayment,
    /// The payment is confirmed (6 → 4).
    Pay,
    /// The citizen asks to withdraw (1, 2, 4, 5, 6 → 7).
    RequestWithdrawal,
    /// Staff confirm the withdrawal (7 → 8).
    ConfirmWithdrawal,
    /// Processing stops, with the reason (2, 4, 5, 6 → 8).
    Stop,
    /// A decision exists: the result (4 → 9).
    Approve,
    /// The result reached the citizen (9 → 10).
    Deliver,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Actions whose event must carry a note the citizen reads (a reason, the missing items,
    /// the decision).
    pub fn needs_note(self) -> bool {
        matches!(
            self,
            Action::Refuse | Action::RequestSupplement | Action::Stop | Action::RequestPayment
        )
    }
}

/// Who acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, strum::VariantArray)]
#[serde(rename_all = "snake_case")]
pub enum Actor {
    Citizen,
    Officer,
    /// An office lead: everything an officer may do.
    Lead,
    /// The portal itself (a verified payment notification).
    System,
}

/// Why a move is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "refused", rename_all = "snake_case")]
pub enum Refusal {
    /// Not from this status.
    WrongStatus { status: Status, action: Action },
    /// Not by this actor.
    NotAllowed { actor: Actor, action: Action },
}

impl Refusal {
    /// The message key explaining it (with the current status, the page says what is possible).
    pub fn message_key(self) -> &'static str {
        match self {
            Refusal::WrongStatus { .. } => "lifecycle_wrong_status",
            Refusal::NotAllowed { .. } => "lifecycle_not_allowed",
        }
    }
}

/// The statuses an action may be taken from, and where it leads.
pub fn rule(action: Action) -> (&'static [Status], Status) {
    use Status::*;
    match action {
        Action::Accept => (&[Submitted], Accepted),
        Action::Refuse => (&[Submitted], Refused),
        Action::Start => (&[Accepted], Processing),
        Action::RequestSupplement => (&[Submitted, Accepted, Processing], SupplementRequested),
        Action::Supplement => (&[SupplementRequested], Processing),
        Action::RequestPayment => (&[Processing], PaymentRequested),
        Action::Pay => (&[PaymentRequested], Processing),
        Action::RequestWithdrawal => (
            &[
                Submitted,
                Accepted,
                Processing,
                SupplementRequested,
                PaymentRequested,
            ],
            WithdrawalRequested,
        ),
        Action::ConfirmWithdrawal => (&[WithdrawalRequested], Stopped),
        Action::Stop => (
            &[Accepted, Processing, SupplementRequested, PaymentRequested],
            Stopped,
        ),
        Action::Approve => (&[Processing], Processed),
        Action::Deliver => (&[Processed], Delivered),
    }
}

/// Who may take an action.
pub fn may(actor: Actor, action: Action) -> bool {
    match action {
        Action::Supplement | Action::RequestWithdrawal => actor == Actor::Citizen,
        // A confirmed payment comes from the gateway, never from a person's click.
        Action::Pay => actor == Actor::System,
        // Delivered by the desk, or by the portal when the citizen first downloads the
        // electronic result.
        Action::Deliver => matches!(actor, Actor::Officer | Actor::Lead | Actor::System),
        _ => matches!(actor, Actor::Officer | Actor::Lead),
    }
}

/// The status `action` by `actor` leads to from `from`, or why it cannot.
pub fn transition(from: Status, action: Action, actor: Actor) -> Result<Status, Refusal> {
    if !may(actor, action) {
        return Err(Refusal::NotAllowed { actor, action });
    }
    let (sources, to) = rule(action);
    if sources.contains(&from) {
        Ok(to)
    } else {
        Err(Refusal::WrongStatus {
            status: from,
            action,
        })
    }
}

/// What `actor` can do to a dossier in `status` (the buttons a page shows).
pub fn available(status: Status, actor: Actor) -> Vec<Action> {
    use strum::VariantArray;
    Action::VARIANTS
        .iter()
        .copied()
        .filter(|a| transition(status, *a, actor).is_ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use strum::VariantArray;

    /// Every allowed (status code, action, actor) → the new status code. Anything not listed
    /// must be refused.
    const ALLOWED: &[(u8, Action, &[Actor], u8)] = {
        use Action::*;
        const STAFF: &[Actor] = &[Actor::Officer, Actor::Lead];
        const CITIZEN: &[Actor] = &[Actor::Citizen];
        &[
            (1, Accept, STAFF, 2),
            (1, Refuse, STAFF, 3),
            (2, Start, STAFF, 4),
            (1, RequestSupplement, STAFF, 5),
            (2, RequestSupplement, STAFF, 5),
            (4, RequestSupplement, STAFF, 5),
            (5, Supplement, CITIZEN, 4),
            (4, RequestPayment, STAFF, 6),
            (6, Pay, &[Actor::System], 4),
            (1, RequestWithdrawal, CITIZEN, 7),
            (2, RequestWithdrawal, CITIZEN, 7),
            (4, RequestWithdrawal, CITIZEN, 7),
            (5, RequestWithdrawal, CITIZEN, 7),
            (6, RequestWithdrawal, CITIZEN, 7),
            (7, ConfirmWithdrawal, STAFF, 8),
            (2, Stop, STAFF, 8),
            (4, Stop, STAFF, 8),
            (5, Stop, STAFF, 8),
            (6, Stop, STAFF, 8),
            (4, Approve, STAFF, 9),
            (
                9,
                Deliver,
                &[Actor::Officer, Actor::Lead, Actor::System],
                10,
            ),
        ]
    };

    #[test]
    fn every_status_action_and_actor_triple() {
        let mut checked = 0;
        for status in Status::ALL {
            for action in Action::VARIANTS {
                for actor in Actor::VARIANTS {
                    let expected = ALLOWED
                        .iter()
                        .find(|(s, a, who, _)| {
                            *s == status.code() && a == action && who.contains(actor)
                        })
                        .map(|(_, _, _, to)| *to);
                    let got = transition(status, *action, *actor).map(Status::code);
                    match expected {
                        Some(to) => assert_eq!(got, Ok(to), "{status:?} {action:?} {actor:?}"),
                        None => assert!(got.is_err(), "{status:?} {action:?} {actor:?} → {got:?}"),
                    }
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 10 * 12 * 4);
    }

    #[test]
    fn refusals_say_why() {
        assert_eq!(
            transition(Status::Delivered, Action::Accept, Actor::Officer),
            Err(Refusal::WrongStatus {
                status: Status::Delivered,
                action: Action::Accept
            })
        );
        assert_eq!(
            transition(Status::Submitted, Action::Accept, Actor::Citizen),
            Err(Refusal::NotAllowed {
                actor: Actor::Citizen,
                action: Action::Accept
            })
        );
        assert_eq!(
            transition(Status::PaymentRequested, Action::Pay, Actor::Lead),
            Err(Refusal::NotAllowed {
                actor: Actor::Lead,
                action: Action::Pay
            }),
            "a payment is confirmed by the gateway only"
        );
    }

    #[test]
    fn finished_dossiers_take_no_action_but_delivery() {
        for status in Status::ALL.into_iter().filter(|s| s.is_finished()) {
            for actor in Actor::VARIANTS {
                let actions = available(status, *actor);
                let expected: Vec<Action> = if status == Status::Processed
                    && matches!(actor, Actor::Officer | Actor::Lead | Actor::System)
                {
                    vec![Action::Deliver]
                } else {
                    vec![]
                };
                assert_eq!(actions, expected, "{status:?} {actor:?}");
            }
        }
    }

    #[test]
    fn action_names_are_the_stored_ones() {
        // The names `dossier_events.action` accepts (its CHECK list in both migration trees).
        let stored = [
            "submit",
            "pay",
            "accept",
            "refuse",
            "start",
            "request_supplement",
            "supplement",
            "request_payment",
            "request_withdrawal",
            "confirm_withdrawal",
            "stop",
            "approve",
            "deliver",
        ];
        for a in Action::VARIANTS {
            assert!(stored.contains(&a.as_str()), "{a:?}");
        }
    }
}
