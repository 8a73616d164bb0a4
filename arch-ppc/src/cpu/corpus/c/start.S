# ELFv1 entry: set up the stack frame and call _start_c (the descriptor gives r2).
	.section ".opd","aw"
	.align 3
	.globl _start
_start:
	.quad ._start, .TOC.@tocbase, 0
	.text
	.globl ._start
._start:
	clrrdi 1,1,4
	li 0,0
	stdu 0,-128(1)
	bl _start_c
	nop
	b .
