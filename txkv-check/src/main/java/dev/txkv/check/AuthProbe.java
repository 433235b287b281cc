package dev.txkv.check;

/**
 * The negative probe of a run with authorization on ({@link CheckAuth#probeOutsidePrefixes}):
 * a workload's user tried keys outside its grants at the end.
 *
 * @param refused whether every attempt was refused with permission_denied (6000); anything
 *     else makes the run invalid, since it did not prove the restriction was in force
 * @param detail what was tried and what the cluster answered
 */
record AuthProbe(boolean refused, String detail) {
}
