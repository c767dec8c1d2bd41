//! The numbers as other tools of the field compute them, ported line by line so that a
//! researcher can put visnir's results beside theirs: Idiap's `bob.measure` and `pyeer`.
//! Both differ from scikit-learn's ROC conventions (used by [`crate::Roc`]) in how they
//! choose thresholds between scores and how they break ties.

pub mod bob;
pub mod pyeer;
