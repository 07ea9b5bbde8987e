/* Exception reporting: the IDT the firmware runs with. */
#ifndef FW_TRAP_H
#define FW_TRAP_H

#include "fwtypes.h"
#include "layout.h"

void trap_init(void);

#endif
