/**
 * Argument structs of event_channel_op (xen/include/public/event_channel.h). All are
 * made of 16/32-bit fields, so they lay out identically in every data model. IN fields
 * are read by the hypervisor, OUT fields written back.
 *
 * @module
 */
import {
  array,
  defineStruct,
  domid,
  evtchnPort,
  field,
  struct,
  u32,
  u64,
  u8,
  union,
} from "../structs.js";

/** `struct evtchn_alloc_unbound`: allocate a port that domain `remote_dom` may later bind. */
export const EVTCHN_ALLOC_UNBOUND = defineStruct(
  "evtchn_alloc_unbound",
  "Allocate an unbound port for a remote domain.",
  {
    dom: field(
      domid,
      "IN: the domain to allocate in (DOMID_SELF, or another domain if privileged).",
    ),
    remote_dom: field(domid, "IN: the only domain allowed to bind to the new port."),
    port: field(evtchnPort, "OUT: the new port."),
  },
);

/** `struct evtchn_bind_interdomain`: connect a new local port to a remote domain's unbound port. */
export const EVTCHN_BIND_INTERDOMAIN = defineStruct(
  "evtchn_bind_interdomain",
  "Bind to another domain's unbound port.",
  {
    remote_dom: field(domid, "IN: the remote domain."),
    remote_port: field(evtchnPort, "IN: its unbound port, allocated for this domain."),
    local_port: field(evtchnPort, "OUT: the new local port."),
  },
);

/** `struct evtchn_bind_virq`: bind a virtual IRQ of one vCPU to a new port. */
export const EVTCHN_BIND_VIRQ = defineStruct("evtchn_bind_virq", "Bind a virtual IRQ.", {
  virq: field(u32, "IN: the VIRQ_* number."),
  vcpu: field(u32, "IN: the vCPU that receives it (per-vCPU VIRQs such as the timer)."),
  port: field(evtchnPort, "OUT: the new port."),
});

/** `struct evtchn_bind_ipi`: a new port for signalling vCPU `vcpu` of the caller. */
export const EVTCHN_BIND_IPI = defineStruct(
  "evtchn_bind_ipi",
  "Bind an inter-processor interrupt port.",
  {
    vcpu: field(u32, "IN: the vCPU notified when the port is sent."),
    port: field(evtchnPort, "OUT: the new port."),
  },
);

/** `struct evtchn_bind_vcpu`: change which vCPU a port notifies. */
export const EVTCHN_BIND_VCPU = defineStruct(
  "evtchn_bind_vcpu",
  "Re-target a port to another vCPU.",
  {
    port: field(evtchnPort, "IN: the port."),
    vcpu: field(u32, "IN: the vCPU to notify from now on."),
  },
);

/** `struct evtchn_close`: close a port (the remote end becomes unbound). */
export const EVTCHN_CLOSE = defineStruct("evtchn_close", "Close a port.", {
  port: field(evtchnPort, "IN: the port to close."),
});

/** `struct evtchn_send`: signal the other end of a port. */
export const EVTCHN_SEND = defineStruct("evtchn_send", "Send an event.", {
  port: field(evtchnPort, "IN: the local port whose remote end is notified."),
});

/** `struct evtchn_unmask`: clear a port's mask bit and deliver it if pending. */
export const EVTCHN_UNMASK = defineStruct("evtchn_unmask", "Unmask a port.", {
  port: field(evtchnPort, "IN: the port."),
});

/** `struct evtchn_status` (24 bytes): what a port is bound to. */
export const EVTCHN_STATUS = defineStruct("evtchn_status", "Query a port's state.", {
  dom: field(domid, "IN: the domain owning the port (DOMID_SELF, or any if privileged)."),
  port: field(evtchnPort, "IN: the port."),
  status: field(u32, "OUT: EventChannelStatus (abi/numbers.ts)."),
  vcpu: field(u32, "OUT: the vCPU the port notifies."),
  u: field(
    union({
      unbound: field(
        struct({ dom: field(domid, "The domain allowed to bind.") }),
        "EVTCHNSTAT_UNBOUND.",
      ),
      interdomain: field(
        struct({
          dom: field(domid, "The remote domain."),
          port: field(evtchnPort, "The remote port."),
        }),
        "EVTCHNSTAT_INTERDOMAIN.",
      ),
      pirq: field(u32, "EVTCHNSTAT_PIRQ: the physical IRQ."),
      virq: field(u32, "EVTCHNSTAT_VIRQ: the virtual IRQ."),
    }),
    "OUT: details, by status.",
  ),
});

/** `struct evtchn_reset`: close every port of a domain (EVTCHNOP_reset). */
export const EVTCHN_RESET = defineStruct("evtchn_reset", "Close all ports of a domain.", {
  dom: field(domid, "IN: the domain (DOMID_SELF, or another domain if privileged)."),
});

/**
 * `struct evtchn_init_control` (24 bytes): FIFO ABI, register vCPU `vcpu`'s control block
 * at `offset` in guest frame `control_gfn`. hvkit implements only the 2-level ABI, so a
 * valid request is refused (see the handler); the argument checks are Xen's.
 */
export const EVTCHN_INIT_CONTROL = defineStruct(
  "evtchn_init_control",
  "Switch to the FIFO ABI: register a vCPU's control block.",
  {
    control_gfn: field(u64, "IN: guest frame holding the control block."),
    offset: field(u32, "IN: byte offset of the control block (8-byte aligned, within the page)."),
    vcpu: field(u32, "IN: the vCPU."),
    link_bits: field(u8, "OUT: bits in an event word's LINK field (17)."),
    _pad: field(array(u8, 7), "Padding."),
  },
);

/** `struct evtchn_expand_array`: FIFO ABI, add a page to the event array. */
export const EVTCHN_EXPAND_ARRAY = defineStruct(
  "evtchn_expand_array",
  "FIFO ABI: add an event array page.",
  { array_gfn: field(u64, "IN: guest frame of the new event array page.") },
);

/** `struct evtchn_set_priority`: FIFO ABI, set a port's queue priority. */
export const EVTCHN_SET_PRIORITY = defineStruct(
  "evtchn_set_priority",
  "FIFO ABI: set a port's priority.",
  {
    port: field(evtchnPort, "IN: the port."),
    priority: field(u32, "IN: 0 (highest) to 15 (lowest)."),
  },
);
