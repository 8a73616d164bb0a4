/* exit-code: prints which reason it will shut down with, then shuts down with it. REASON is set by build.sh. */
#include "rt.h"

int guest_main(void)
{
    char msg[] = "shutting down with reason 0\n";
    msg[26] = (char)('0' + REASON);
    print(msg);
    return REASON;
}
