/*
 * energylens.h - the public API of libenergylens: includes every part.
 *
 * The API is split by subsystem (energylens/core.h first, with the
 * conventions every function follows); programs include this header only.
 */
#ifndef ENERGYLENS_H
#define ENERGYLENS_H

#include <energylens/core.h>
#include <energylens/table.h>
#include <energylens/expr.h>
#include <energylens/model.h>
#include <energylens/fit.h>
#include <energylens/prior.h>
#include <energylens/method.h>
#include <energylens/metrics.h>
#include <energylens/units.h>
#include <energylens/select.h>
#include <energylens/planner.h>
#include <energylens/profile.h>
#include <energylens/bench.h>
#include <energylens/sr.h>
#include <energylens/report.h>

#endif /* ENERGYLENS_H */
