/**
 * What happens to a child workflow that is still open when its parent closes (Temporal's parent
 * close policy): it is terminated (the default), asked to cancel, or left running.
 */
export const PARENT_CLOSE_POLICIES = ['terminate', 'requestCancel', 'abandon'] as const;
export type ParentClosePolicy = typeof PARENT_CLOSE_POLICIES[number];
