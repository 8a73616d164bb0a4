/* hello: console_io write (an inline xencomm handle), then shutdown(poweroff). */
#include "rt.h"

int guest_main(void)
{
    print("Hello from an hvkit ppc PV guest\n");
    return 0; /* SHUTDOWN_poweroff */
}
