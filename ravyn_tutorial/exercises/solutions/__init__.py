"""The reference solution of each exercise, shown by `ravyn-tutorial solution`
once the learner's own version has passed. Package data, like the templates."""
