#!/usr/bin/env node
import "reflect-metadata";

process.stdout.write("hvkit: under construction\n");
