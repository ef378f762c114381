/* Test-only fault injection (MB_FAULT, docs/environment.md).
 *
 * MB_FAULT=KIND:N[,KIND:N...] makes the N-th event of KIND in this process fail
 * the way the real failure would: alloc (a device allocation through mb_new:
 * sticky MB_OOM), op (a backend op through the checked wrappers of core/ops.c:
 * sticky MB_DEVICE_ERROR, as a lost device), write (one write of an output file:
 * half of it written, then EIO) or fsync (EIO).  MB_FAULT=count prints the count
 * of each kind at exit, so a test can sweep N over a whole run.  Unset: no
 * counting, nothing changes. */
#ifndef MB_FAULT_H
#define MB_FAULT_H

typedef enum { MB_FAULT_ALLOC, MB_FAULT_OP, MB_FAULT_WRITE, MB_FAULT_FSYNC, MB_FAULT__COUNT } mb_fault_kind;

/* Counts one event of kind k; nonzero when MB_FAULT asks this one to fail. */
int mb_fault_hit(mb_fault_kind k);
/* After a failed write has written its torn half: SIGKILL if MB_FAULT asked for
 * a kill there. */
void mb_fault_torn(void);
/* "alloc", "op", "write", "fsync". */
const char *mb_fault_name(mb_fault_kind k);
/* The MB_FAULT value for messages ("" when unset). */
const char *mb_fault_spec(void);

#endif
