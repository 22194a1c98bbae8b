"""The engine: text to trees, trees to derivatives, derivatives to numbers. No web framework is imported here.

Modules: ``language`` (syntax, build, printer), ``engine`` (SymEngine or SymPy per expression), ``calculus``
(queries, tasks and symbolic results, run in workers), ``answer`` (what an evaluated calculus result says),
``numeric`` (compiled kernels and statuses), ``exact`` (exact points), ``points`` (JSON values to matrices),
``grid`` (ranges to points), ``geometry`` (directions, definiteness), ``anchor`` (a function at an exact point),
``taylor`` (Taylor polynomials), ``level_set`` (normals and tangent planes), ``critical`` (critical points and the
second derivative test), ``deadline`` (a time limit for SymPy inside a worker), ``notes`` (the one shape of a
warning), ``limits`` (every default limit), ``errors`` (the error tree), ``distributions`` and ``stochastic``
(probability). Nothing is imported here, so that a module that needs only ``limits`` or ``errors`` (the command line,
the settings) does not pay for SymPy.
"""
