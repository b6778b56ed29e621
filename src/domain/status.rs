//! The ten dossier statuses one-stop systems report to the national portal (domain.md §3),
//! stored as their code (1–10). The actions that move a dossier between them, and who may take
//! each, are the workspace's state machine; this is the closed list they move over.

/// A dossier's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(into = "u8")]
pub enum Status {
    /// 1 Mới đăng ký: submitted online, not yet checked by the receiving desk.
    Submitted,
    /// 2 Được tiếp nhận: accepted; receipt slip issued; the clock runs.
    Accepted,
    /// 3 Không được tiếp nhận: refused at receipt, with the reason.
    Refused,
    /// 4 Đang xử lý: being processed.
    Processing,
    /// 5 Yêu cầu bổ sung giấy tờ: waiting for the citizen's supplement; the clock is paused.
    SupplementRequested,
    /// 6 Yêu cầu thực hiện nghĩa vụ tài chính: waiting for a payment.
    PaymentRequested,
    /// 7 Công dân yêu cầu rút hồ sơ: the citizen asked to withdraw.
    WithdrawalRequested,
    /// 8 Dừng xử lý: stopped (refused after appraisal, withdrawn, cannot continue).
    Stopped,
    /// 9 Đã xử lý xong: a decision or result exists.
    Processed,
    /// 10 Đã trả kết quả: the result was delivered.
    Delivered,
}

impl Status {
    pub const ALL: [Status; 10] = [
        Status::Submitted,
        Status::Accepted,
        Status::Refused,
        Status::Processing,
        Status::SupplementRequested,
        Status::PaymentRequested,
        Status::WithdrawalRequested,
        Status::Stopped,
        Status::Processed,
        Status::Delivered,
    ];

    /// The national code, 1–10.
    pub fn code(self) -> u8 {
        match self {
            Status::Submitted => 1,
            Status::Accepted => 2,
            Status::Refused => 3,
            Status::Processing => 4,
            Status::SupplementRequested => 5,
            Status::PaymentRequested => 6,
            Status::WithdrawalRequested => 7,
            Status::Stopped => 8,
            Status::Processed => 9,
            Status::Delivered => 10,
        }
    }

    pub fn from_code(code: i32) -> Option<Status> {
        Status::ALL
            .into_iter()
            .find(|s| i32::from(s.code()) == code)
    }

    /// Finished: nothing more will happen to the dossier (3, 8, 9, 10).
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            Status::Refused | Status::Stopped | Status::Processed | Status::Delivered
        )
    }

    /// Waiting for the citizen: the agency's clock does not run (5, 6).
    pub fn waits_for_citizen(self) -> bool {
        matches!(self, Status::SupplementRequested | Status::PaymentRequested)
    }

    /// The queue tab the status belongs to.
    pub fn stage(self) -> Stage {
        match self {
            Status::Submitted => Stage::New,
            Status::Accepted | Status::Processing => Stage::InProgress,
            Status::SupplementRequested | Status::PaymentRequested => Stage::Waiting,
            Status::WithdrawalRequested => Stage::Withdrawal,
            Status::Refused | Status::Stopped | Status::Processed | Status::Delivered => {
                Stage::Finished
            }
        }
    }

    /// The status's name where machines read it (webhook events).
    pub fn name(self) -> &'static str {
        match self {
            Status::Submitted => "submitted",
            Status::Accepted => "accepted",
            Status::Refused => "refused",
            Status::Processing => "processing",
            Status::SupplementRequested => "supplement_requested",
            Status::PaymentRequested => "payment_requested",
            Status::WithdrawalRequested => "withdrawal_requested",
            Status::Stopped => "stopped",
            Status::Processed => "processed",
            Status::Delivered => "delivered",
        }
    }

    /// The message key of the status in plain words.
    pub fn message_key(self) -> String {
        format!("status_{}", self.code())
    }
}

/// Where a dossier stands for the office's queue; stored beside the status (`dossiers.stage`) so
/// each tab is one equality in an index, in due-date order.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    serde::Serialize,
    strum::EnumString,
    strum::IntoStaticStr,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Stage {
    /// 1: to check at the desk.
    New = 1,
    /// 2, 4: accepted and being processed; the clock runs.
    InProgress = 2,
    /// 5, 6: waiting for the citizen; the clock is paused.
    Waiting = 3,
    /// 7: the citizen asked to withdraw.
    Withdrawal = 4,
    /// 3, 8, 9, 10.
    Finished = 5,
}

impl Stage {
    pub fn code(self) -> i32 {
        self as i32
    }

    /// Stages whose dossiers have a running clock (they can be due soon or overdue).
    pub const CLOCK_RUNS: [Stage; 2] = [Stage::New, Stage::InProgress];
}

impl From<Status> for u8 {
    fn from(s: Status) -> u8 {
        s.code()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_has_one_stage_and_finished_means_finished() {
        for s in Status::ALL {
            assert_eq!(s.stage() == Stage::Finished, s.is_finished(), "{s:?}");
            assert_eq!(s.stage() == Stage::Waiting, s.waits_for_citizen(), "{s:?}");
        }
        assert_eq!(Status::WithdrawalRequested.stage().code(), 4);
    }

    #[test]
    fn codes_are_the_national_ones_and_round_trip() {
        let codes: Vec<u8> = Status::ALL.iter().map(|s| s.code()).collect();
        assert_eq!(codes, (1..=10).collect::<Vec<u8>>());
        for s in Status::ALL {
            assert_eq!(Status::from_code(i32::from(s.code())), Some(s));
        }
        assert_eq!(Status::from_code(0), None);
        assert_eq!(Status::from_code(11), None);
        let finished: Vec<u8> = Status::ALL
            .iter()
            .filter(|s| s.is_finished())
            .map(|s| s.code())
            .collect();
        assert_eq!(finished, [3, 8, 9, 10]);
    }
}
