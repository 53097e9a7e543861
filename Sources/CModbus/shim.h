#ifndef VIGIL_CMODBUS_SHIM_H
#define VIGIL_CMODBUS_SHIM_H

// Included by path so the build works even where pkg-config is absent.
#include <modbus/modbus.h>
#include <errno.h>

// libmodbus defines its error codes as macro expressions, which Swift does not
// import. Re-export them as constants under a module prefix.
static const int CModbus_ENOBASE = MODBUS_ENOBASE;
static const int CModbus_EMBXILFUN = EMBXILFUN;
static const int CModbus_EMBXILADD = EMBXILADD;
static const int CModbus_EMBXILVAL = EMBXILVAL;
static const int CModbus_EMBXSFAIL = EMBXSFAIL;
static const int CModbus_EMBXACK = EMBXACK;
static const int CModbus_EMBXSBUSY = EMBXSBUSY;
static const int CModbus_EMBXNACK = EMBXNACK;
static const int CModbus_EMBXMEMPAR = EMBXMEMPAR;
static const int CModbus_EMBXGPATH = EMBXGPATH;
static const int CModbus_EMBXGTAR = EMBXGTAR;
static const int CModbus_EMBBADCRC = EMBBADCRC;
static const int CModbus_EMBBADDATA = EMBBADDATA;
static const int CModbus_EMBBADEXC = EMBBADEXC;
static const int CModbus_EMBUNKEXC = EMBUNKEXC;
static const int CModbus_EMBMDATA = EMBMDATA;
static const int CModbus_EMBBADSLAVE = EMBBADSLAVE;

static const int CModbus_RTU_RS232 = MODBUS_RTU_RS232;
static const int CModbus_RTU_RS485 = MODBUS_RTU_RS485;
static const int CModbus_TCP_DEFAULT_PORT = MODBUS_TCP_DEFAULT_PORT;
static const int CModbus_MAX_ADU_LENGTH = MODBUS_MAX_ADU_LENGTH;

// errno is a macro over a thread-local in glibc; read it through a function.
static inline int CModbus_errno(void) { return errno; }

#endif
