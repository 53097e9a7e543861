#ifndef VIGIL_CGPIOD_SHIM_H
#define VIGIL_CGPIOD_SHIM_H

// libgpiod v1 (Debian 12 ships 1.6.3). A v2 backend belongs beside this one,
// chosen by `pkg-config --atleast-version=2 libgpiod`, not by header macros.
#include <gpiod.h>

#endif
