//! Scenario tests of the agent against PROTOCOL.md: the observable sequences,
//! every [C quirk] the other way round, the state transitions, and the
//! properties no input may break.
//!
//! Where each C-agent bug (PROTOCOL.md §11.1, and the `[C quirk]` marks of
//! the other sections) is shown fixed, by the test's name (`job::` and the
//! codec modules are unit tests beside their code):
//!
//! | bug | test |
//! |---|---|
//! | 11.1.1 no resume across a reboot | `resume::a_reboot_mid_download_continues_without_fetching_finished_blocks` |
//! | 11.1.2 late duplicates reject the finished image | `download_mqtt::quirk_late_and_duplicate_blocks_are_ignored` |
//! | 11.1.3 one malformed block fails the job; §5.2 `f` unchecked, `l` trusted | `download_mqtt::quirk_malformed_blocks_are_dropped_and_requested_again` |
//! | 11.1.4 retries spent shut the agent down | `download_mqtt::quirk_retry_budget_spent_fails_the_job_and_returns_to_idle` |
//! | 11.1.5 lost `$next/get` reply; §2.2 clientToken digit | `jobs::quirk_lost_job_request_reply_is_retried` |
//! | 11.1.5 / §7.3 check for update ignored while idle | `jobs::quirk_check_for_update_works_while_idle` |
//! | 11.1.6 / §3.3 step 4 job id overwritten without clearing | `jobs::quirk_a_shorter_job_id_does_not_keep_the_tail_of_the_last` |
//! | 11.1.6 / §3.8 fields carried over between jobs | `job::tests::quirk_fresh_state_per_document` |
//! | 11.1.6 / §3.1 `null` stored as "null" | `job::tests::quirk_null_means_absent` |
//! | §3.1 a top-level key overrides the file's | `job::tests::quirk_top_level_keys_do_not_override_the_file` |
//! | §3.1 strtoul: signs, octal, truncation | `job::tests::quirk_strict_numbers`, `json::tests::strict_u32` |
//! | §3.1 JSON validity overwritten | `json::tests::validates`, `jobs::empty_document_means_no_job` |
//! | 11.1.6 / §6 HTTP block index from a counter | `http::quirk_repeated_or_overlapping_responses_are_not_written_as_new_data` |
//! | 11.1.7 / §3.3 steps 7–8 silent or stuck on zero size, too large, bad protocol | `jobs::quirk_unusable_jobs_fail_with_a_reason_before_flash` |
//! | 11.1.7 file too large for the bitmap | `download_mqtt::a_file_larger_than_the_c_agents_bitmap` |
//! | 11.1.7 a new job replaces the old one silently | `jobs::a_replacement_job_stops_the_download_and_asks_again` |
//! | 11.1.8 / §2.1 T7u data topic never unsubscribed after a re-init | `jobs::quirk_unsubscribe_works_after_a_restart` |
//! | 11.1.9 / §6 URL lost on refresh | `http::quirk_an_expired_url_is_refreshed_from_the_job_document` |
//! | 11.1.10 / §4 M6 prints the fileType as a version | `integrity::a_non_firmware_file_is_verified_and_reported_succeeded` |
//! | 11.1.10 `updatedBy` old in M3, new in M4 | `self_test::after_m4_updated_by_is_the_new_version` |
//! | §3.6 a claimed custom job gets a stale "receive" | `status::tests::resume_note_and_custom_statuses`, `jobs::custom_jobs_claimed_or_declined` |
//! | 11.1.11 data dropped under bursts, unseen | `download_mqtt::statistics_count_each_data_message` (`record_dropped`) |
//! | 11.1.12 / §8.1 int16 `writeBlock` (blocks of 32 KiB and more) | `download_mqtt::quirk_blocks_of_32_kib_and_more` |
//! | 11.1.12 every `$next/get` re-subscribes | `jobs::quirk_lost_job_request_reply_is_retried`, `jobs::quirk_check_for_update_works_while_idle` |
//!
//! Kept on purpose, for the wire: M5's two spaces before each `v`
//! (`status::tests::byte_exact_bodies_of_protocol_section_4`).

mod harness;

mod abort;
mod download_mqtt;
mod http;
mod integrity;
mod jobs;
mod properties;
mod resume;
mod self_test;
mod transitions;
