"""The proposals app: residents' proposals to their council, supports, moderation, answers."""
