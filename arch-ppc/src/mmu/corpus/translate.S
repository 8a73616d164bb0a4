# A real-mode program for arch-ppc/src/mmu/translate-program.test.ts: it maps two pages
# with PAPR hcalls (sc 1), loads an SLB entry, turns on instruction and data relocation
# with rfid and reads and writes through the mapping; then it removes the data page's
# entry and touches it again, which must raise a data storage interrupt.
# Loaded at guest-physical 0x1000; rebuilt by arch-ppc/scripts/gen-mmu-program.sh.
#
# Segment: ESID 1 (EA 0x10000000-0x1fffffff) -> VSID 0x1234, Ks = 0, Kp = 1.
# Pages (2^11 PTEGs, primary hash = VSID ^ page index):
#   EA 0x10001000 (page 1) -> guest frame 1 (this code), PTEG 0x235, PP 2
#   EA 0x10003000 (page 3) -> guest frame 20,             PTEG 0x237, PP 2
# Frame 20 lies beyond the test's 64 KiB RMA: only the mapping reaches it (the test puts
# 0xcafef00d at its offset 0x10).
	.set VSID, 0x1234
	.set H_REMOVE, 0x04
	.set H_ENTER, 0x08
	.set DATA_EA, 0x10003010
	.text
	.globl _start
_start:
	# H_ENTER(flags 0, ptex 0x235*8, AVPN|V, frame 1|M|PP=2)
	li	3, H_ENTER
	li	4, 0
	li	5, 0x235*8
	lis	6, ((VSID << 12) | 1)@h
	ori	6, 6, ((VSID << 12) | 1)@l
	li	7, (1 << 12) | 0x12
	sc	1
	mr	20, 3			# status
	mr	21, 4			# slot used
	# H_ENTER(flags 0, ptex 0x237*8, AVPN|V, frame 20|M|PP=2)
	li	3, H_ENTER
	li	4, 0
	li	5, 0x237*8
	lis	6, ((VSID << 12) | 1)@h
	ori	6, 6, ((VSID << 12) | 1)@l
	lis	7, ((20 << 12) | 0x12)@h
	ori	7, 7, ((20 << 12) | 0x12)@l
	sc	1
	mr	22, 3
	mr	23, 4
	# SLB entry 0: RS = VSID << 12 | Kp, RB = ESID 1 << 28 | V | index 0.
	lis	5, ((VSID << 12) | 0x400)@h
	ori	5, 5, ((VSID << 12) | 0x400)@l
	lis	6, 0x1800
	slbmte	5, 6
	slbmfee	24, 26			# r26 = 0: read entry 0 back
	# rfid to the translated address of "virt" with IR and DR on.
	lis	11, 0x1000
	ori	11, 11, 0x1000 + (virt - _start)
	mtsrr0	11
	mfmsr	12
	ori	12, 12, 0x30
	mtsrr1	12
	rfid
virt:
	lis	9, DATA_EA@h
	ori	9, 9, DATA_EA@l
	lwz	25, 0(9)		# 0xcafef00d, through the mapping
	addi	8, 25, 1
	stw	8, 4(9)			# lands at guest-physical 0x14014
	# H_REMOVE(flags 0, ptex = the data slot), then touch the page again.
	li	3, H_REMOVE
	li	4, 0
	mr	5, 23
	sc	1
	mr	27, 3
	lwz	28, 0(9)		# data storage interrupt: no translation
	trap
