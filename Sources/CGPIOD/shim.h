#ifndef VIGIL_CGPIOD_SHIM_H
#define VIGIL_CGPIOD_SHIM_H

// libgpiod as pkg-config finds it: v1 (Debian 12 ships 1.6.3) or v2. Package.swift
// asks `pkg-config --atleast-version=2 libgpiod` and defines LIBGPIOD_V2 for
// VigilGPIO, which then compiles LibgpiodV2Backend.swift instead of LibgpiodBackend.swift.
#include <gpiod.h>

#endif
