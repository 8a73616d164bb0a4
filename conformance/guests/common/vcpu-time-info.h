/*
 * struct vcpu_time_info (public/xen.h), the same for every guest kind: the record of
 * system time a vCPU reads with its counter (rt-common.h's vcpu_time_now), included by
 * each arch's rt.h before its vcpu_info.
 */
#ifndef HVKIT_VCPU_TIME_INFO_H
#define HVKIT_VCPU_TIME_INFO_H

struct vcpu_time_info {
    volatile u32 version, pad0;
    volatile u64 tsc_timestamp, system_time;
    volatile u32 tsc_to_system_mul;
    volatile signed char tsc_shift;
    volatile u8 flags, pad1[2];
};

#endif
