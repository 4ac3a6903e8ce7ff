/**
 * Inline review comments a forge client reads for one PR: the most recent ones, so a PR with thousands
 * of comments costs a bounded number of requests (`{{pr.reviewComments}}` shows fewer still).
 */
export const REVIEW_COMMENTS_MAX = 100;
